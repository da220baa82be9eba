//! `xdiag explain [TEXT... | -]`: a rule id or alias names that rule; an existing file path (or
//! `--file PATH`) is read as a file; `-`, or no TEXT with stdin not a terminal, reads stdin;
//! anything else is pasted text. Files and stdin are streamed, whatever their size.
use std::{
    fs::File,
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
};

use diag_core::explain::{
    self, ExplainOptions, ExplainReport, Matcher,
    render::{self, Style},
};
use diag_core::jwt::Intended;

use crate::{cli::Format, context::Context};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 a rule matched; 1 nothing matched (also an empty input); \
2 bad input (a file or stdin that cannot be read) or usage error."
)]
pub struct ExplainArgs {
    /// A rule id or alias, a code (AADSTS7000215, 5.7.139, 016-781), pasted text, a file path, or
    /// `-` for stdin.
    #[arg(value_name = "TEXT")]
    pub text: Vec<String>,
    /// Read this file (streamed; any size).
    #[arg(long, value_name = "PATH", conflicts_with = "text")]
    pub file: Option<PathBuf>,
    /// How access tokens in the input are used; otherwise read from the text around them.
    #[arg(long, value_enum, value_name = "smtp|graph")]
    pub method: Option<TokenUse>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenUse {
    Smtp,
    Graph,
}

enum Input {
    Lookup(String),
    Text(String),
    File(PathBuf),
    Stdin,
}

fn format(f: Format) -> render::Format {
    match f {
        Format::Human => render::Format::Human,
        Format::Json => render::Format::Json,
        Format::Markdown => render::Format::Markdown,
    }
}

/// `xdiag rules show`: one rule in full, in the chosen format.
pub fn print_rule(
    ctx: &Context,
    rule: &diag_core::rules::Rule,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    render::render_rule(rule, format(ctx.format), Style { color: ctx.color }, out)
}

pub fn run(ctx: &Context, args: ExplainArgs) -> anyhow::Result<u8> {
    let input = match choose_input(ctx, &args) {
        Ok(input) => input,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(2);
        }
    };
    let mut opts = ExplainOptions::new("argument");
    opts.usage = args.method.map(|m| match m {
        TokenUse::Smtp => Intended::Smtp,
        TokenUse::Graph => Intended::Graph,
    });
    let report = match input {
        Input::Lookup(key) => {
            let rule = ctx
                .rules
                .lookup(&key)
                .expect("chosen because the lookup succeeds");
            explain::explain_rule(rule, &key)
        }
        Input::Text(text) => {
            let matcher = compile(ctx);
            explain::explain_text(&ctx.rules, &matcher, &text, &opts)
        }
        Input::File(path) => {
            opts.source = format!("file {}", path.display());
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) => return bad_input(&format!("cannot read {}: {e}", path.display())),
            };
            let matcher = compile(ctx);
            match explain::explain_reader(&ctx.rules, &matcher, file, &opts) {
                Ok(r) => r,
                Err(e) => return bad_input(&format!("cannot read {}: {e}", path.display())),
            }
        }
        Input::Stdin => {
            opts.source = "stdin".into();
            let matcher = compile(ctx);
            match explain::explain_reader(&ctx.rules, &matcher, std::io::stdin().lock(), &opts) {
                Ok(r) => r,
                Err(e) => return bad_input(&format!("cannot read stdin: {e}")),
            }
        }
    };
    let mut out = std::io::stdout().lock();
    render::render(
        &report,
        format(ctx.format),
        Style { color: ctx.color },
        &mut out,
    )?;
    out.flush()?;
    Ok(exit_code(&report))
}

fn exit_code(report: &ExplainReport) -> u8 {
    if report.matched() { 0 } else { 1 }
}

fn bad_input(message: &str) -> anyhow::Result<u8> {
    eprintln!("error: {message}");
    Ok(2)
}

fn compile(ctx: &Context) -> Matcher {
    let matcher = Matcher::compile(&ctx.rules);
    for (rule, problem) in &matcher.problems {
        eprintln!("warning: rule {rule}: {problem}");
    }
    matcher
}

fn choose_input(ctx: &Context, args: &ExplainArgs) -> Result<Input, String> {
    if let Some(path) = &args.file {
        return Ok(Input::File(path.clone()));
    }
    match args.text.as_slice() {
        [] if std::io::stdin().is_terminal() => {
            Err("nothing to explain: give a rule id, a code, pasted text, --file PATH, or pipe text into `xdiag explain -`".into())
        }
        [] => Ok(Input::Stdin),
        [dash] if dash == "-" => Ok(Input::Stdin),
        [one] => {
            if ctx.rules.lookup(one).is_some() {
                return Ok(Input::Lookup(one.clone()));
            }
            let path = Path::new(one);
            // Pasted text can be anything; only a short single word is worth a look on disk.
            if one.len() < 4096 && !one.contains('\n') {
                if path.is_file() {
                    return Ok(Input::File(path.to_path_buf()));
                }
                if path.is_dir() {
                    return Err(format!("{one} is a directory; give a file, or text to explain"));
                }
            }
            Ok(Input::Text(one.clone()))
        }
        many => Ok(Input::Text(many.join(" "))),
    }
}
