//! Streaming input: large reads cut at line ends, so memory stays bounded whatever the size of
//! the input. A line longer than a chunk is handed over in windows (with a small overlap, so a
//! code cut by a window edge is still seen whole in the next window).
use std::io::{self, ErrorKind, Read};

/// Bytes read at a time and the longest piece handed to the scanner.
pub const CHUNK: usize = 1 << 20;
/// Bytes of a long line carried into its next window.
pub const OVERLAP: usize = 4096;

/// A run of input handed to the scanner.
pub struct Piece<'a> {
    /// Whole lines (the last one maybe without its newline at the end of input), or one window
    /// of a line longer than a chunk.
    pub data: &'a [u8],
    /// The line number (1-based) of the first line in `data`.
    pub first_line: u64,
    /// `data` is a window of a longer line, not whole lines.
    pub window: bool,
    /// `data` is the whole input (it fitted in one chunk).
    pub whole: bool,
}

/// What the reader saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    pub bytes: u64,
    pub lines: u64,
    pub long_lines: u64,
}

/// Reads `r` to the end in pieces of at most `chunk` bytes. `scan` gets each piece and returns
/// how many newlines it holds (it counts them anyway, so they are not counted twice).
pub fn read_pieces<R: Read>(
    mut r: R,
    chunk: usize,
    mut scan: impl FnMut(&Piece) -> u64,
) -> io::Result<ReadStats> {
    let chunk = chunk.max(2 * OVERLAP);
    let mut buf = vec![0u8; chunk];
    let mut len = 0;
    let mut eof = false;
    let mut first = true;
    let mut stats = ReadStats::default();
    let mut line = 1u64;
    let mut in_long_line = false;
    let mut last_byte = b'\n';
    loop {
        while len < chunk && !eof {
            match r.read(&mut buf[len..]) {
                Ok(0) => eof = true,
                Ok(n) => {
                    len += n;
                    stats.bytes += n as u64;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if len == 0 {
            break;
        }
        last_byte = buf[len - 1];
        let whole = first && eof;
        first = false;
        match memchr::memrchr(b'\n', &buf[..len]) {
            Some(nl) if !(eof && nl + 1 < len) => {
                // Whole lines up to the last newline; the rest waits for more input.
                let newlines = scan(&Piece {
                    data: &buf[..=nl],
                    first_line: line,
                    window: false,
                    whole,
                });
                line += newlines;
                in_long_line = false;
                buf.copy_within(nl + 1..len, 0);
                len -= nl + 1;
            }
            _ if eof => {
                // The last line has no newline (or the input is one line): hand it over whole.
                let newlines = scan(&Piece {
                    data: &buf[..len],
                    first_line: line,
                    window: false,
                    whole,
                });
                line += newlines;
                len = 0;
            }
            _ => {
                // A full buffer without a newline: a window of a very long line.
                if !in_long_line {
                    stats.long_lines += 1;
                    in_long_line = true;
                }
                scan(&Piece {
                    data: &buf[..len],
                    first_line: line,
                    window: true,
                    whole: false,
                });
                buf.copy_within(len - OVERLAP..len, 0);
                len = OVERLAP;
            }
        }
        if eof && len == 0 {
            break;
        }
    }
    // A last line without a newline still counts as a line.
    stats.lines = line - 1 + u64::from(last_byte != b'\n');
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Seen = Vec<(Vec<u8>, u64, bool, bool)>;

    fn pieces(input: &[u8], chunk: usize) -> (Seen, ReadStats) {
        let mut got = Vec::new();
        let stats = read_pieces(input, chunk, |p| {
            got.push((p.data.to_vec(), p.first_line, p.window, p.whole));
            p.data.iter().filter(|&&b| b == b'\n').count() as u64
        })
        .expect("read");
        (got, stats)
    }

    #[test]
    fn small_input_is_one_whole_piece() {
        let (got, stats) = pieces(b"a\nb\nc", CHUNK);
        assert_eq!(got, vec![(b"a\nb\nc".to_vec(), 1, false, true)]);
        assert_eq!((stats.bytes, stats.lines), (5, 3));
        assert_eq!(pieces(b"a\n", CHUNK).1.lines, 1);
        assert_eq!(pieces(b"", CHUNK).1.lines, 0);
    }

    #[test]
    fn pieces_are_cut_at_line_ends_and_numbered() {
        let input: Vec<u8> = (0..5000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let (got, _) = pieces(&input, 2 * OVERLAP);
        assert!(got.len() > 2);
        let mut expect_line = 1;
        let mut joined = Vec::new();
        for (data, first, window, _) in &got {
            assert!(!window);
            assert_eq!(*first, expect_line);
            assert_eq!(data.last(), Some(&b'\n'));
            expect_line += data.iter().filter(|&&b| b == b'\n').count() as u64;
            joined.extend_from_slice(data);
        }
        assert_eq!(joined, input);
    }

    #[test]
    fn a_long_line_comes_in_overlapping_windows() {
        let mut input = vec![b'x'; 5 * OVERLAP];
        input.extend_from_slice(b"\nnext\n");
        let (got, stats) = pieces(&input, 2 * OVERLAP);
        assert!(got.iter().any(|p| p.2), "some windows");
        assert!(got.iter().all(|p| p.0.len() <= 2 * OVERLAP));
        assert_eq!(got.last().map(|p| p.1), Some(1));
        assert_eq!(stats.long_lines, 1);
    }

    #[test]
    fn read_errors_are_returned() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("boom"))
            }
        }
        assert!(read_pieces(Broken, CHUNK, |_| 0).is_err());
    }
}
