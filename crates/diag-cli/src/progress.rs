//! What a person at the terminal sees while checks run: a transient "running ..." line on
//! stderr (only when stderr is a terminal, so pipes and CI logs stay clean), and the device-code
//! instruction, which is always shown because the run waits for it.
use std::{
    collections::BTreeSet,
    io::{IsTerminal, Write},
};

use diag_core::{check::CheckId, pipeline::DeviceCodePrompt};

pub struct Progress {
    enabled: bool,
    running: BTreeSet<CheckId>,
    shown: bool,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            running: BTreeSet::new(),
            shown: false,
        }
    }

    pub fn started(&mut self, check: CheckId) {
        self.running.insert(check);
        self.redraw();
    }

    pub fn finished(&mut self, check: CheckId) {
        self.running.remove(&check);
        self.redraw();
    }

    /// Removes the transient line so that a stdout line can be printed in its place.
    pub fn clear(&mut self) {
        if self.enabled && self.shown {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }

    fn redraw(&mut self) {
        if !self.enabled {
            return;
        }
        self.clear();
        if self.running.is_empty() {
            return;
        }
        let names: Vec<&str> = self.running.iter().map(|c| c.as_str()).collect();
        let mut err = std::io::stderr();
        let _ = write!(err, "running: {} ...", names.join(", "));
        let _ = err.flush();
        self.shown = true;
    }

    /// The sign-in instruction for `--device-code`, on stderr whatever the output format.
    pub fn device_code(&mut self, prompt: &DeviceCodePrompt) {
        self.clear();
        let minutes = prompt.expires_in.div_ceil(60);
        eprintln!(
            "To sign in, open {} and enter the code {} (valid for {minutes} min). Waiting for the sign-in...",
            prompt.verification_uri, prompt.user_code
        );
        self.redraw();
    }
}
