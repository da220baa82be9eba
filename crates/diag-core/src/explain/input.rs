//! Streaming input: large reads cut at line ends, so memory stays bounded whatever the size of
//! the input. A line longer than a chunk is handed over in windows (with a small overlap, so a
//! code cut by a window edge is still seen whole in the next window).
//!
//! UTF-16 text (what Windows PowerShell 5.1 writes with `>` or `Out-File`: little-endian with a
//! `FF FE` byte-order mark, or without one) is decoded to UTF-8 on the way in, so every reader
//! sees text and nothing takes it for binary.
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
    /// Bytes of input as given (before any decoding).
    pub bytes: u64,
    pub lines: u64,
    pub long_lines: u64,
    /// The encoding the input was decoded from (`UTF-16LE`, `UTF-16BE`); `None` for UTF-8.
    pub decoded_from: Option<&'static str>,
}

impl ReadStats {
    /// A line for the report's notes when the input was decoded.
    pub fn decoding_note(&self) -> Option<String> {
        self.decoded_from.map(|enc| {
            format!(
                "the input is {enc} text (as Windows PowerShell writes it); it was decoded to UTF-8"
            )
        })
    }
}

/// Bytes looked at to recognise UTF-16 without a byte-order mark.
const SNIFF: usize = 512;

/// Which UTF-16, if any, `head` (the first bytes of the input) is, and how long its byte-order
/// mark is. With a mark, some character after it must be ASCII or Latin-1 (a zero high byte:
/// a log always has spaces, digits or line ends), so bytes that merely start with `FF FE` stay
/// bytes. Without a mark: at least 8 bytes, and NUL in every other byte but almost never in the
/// others (ASCII text written as UTF-16).
fn sniff_utf16(head: &[u8]) -> Option<(bool, usize)> {
    let big_endian = match head {
        [0xFF, 0xFE, ..] => Some(false),
        [0xFE, 0xFF, ..] => Some(true),
        _ => None,
    };
    if let Some(big_endian) = big_endian {
        let rest = &head[2..head.len().min(SNIFF)];
        let high = usize::from(!big_endian);
        let latin = rest.len() < 4 || rest.chunks_exact(2).any(|u| u[high] == 0);
        return latin.then_some((big_endian, 2));
    }
    let n = head.len().min(SNIFF) & !1;
    if n < 8 {
        return None;
    }
    let (mut even_nul, mut odd_nul) = (0, 0);
    for (i, &b) in head[..n].iter().enumerate() {
        if b == 0 {
            if i % 2 == 0 {
                even_nul += 1
            } else {
                odd_nul += 1
            }
        }
    }
    let pairs = n / 2;
    // Nearly every unit has a zero high byte, and the other byte is not zero.
    let mostly = |nul: usize| nul * 10 >= pairs * 9;
    let rarely = |nul: usize| nul * 20 <= pairs;
    if mostly(odd_nul) && rarely(even_nul) {
        Some((false, 0))
    } else if mostly(even_nul) && rarely(odd_nul) {
        Some((true, 0))
    } else {
        None
    }
}

/// Reads UTF-16 from `inner` and yields UTF-8. Unpaired surrogates become U+FFFD.
struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    raw: Vec<u8>,
    /// Raw bytes not yet decoded (an odd byte, or a high surrogate waiting for its pair).
    carry: Vec<u8>,
    out: Vec<u8>,
    out_at: usize,
    eof: bool,
    /// Raw bytes read from `inner`.
    bytes: u64,
}

impl<R: Read> Utf16Reader<R> {
    fn new(inner: R, big_endian: bool) -> Self {
        Utf16Reader {
            inner,
            big_endian,
            raw: vec![0; 64 * 1024],
            carry: Vec::new(),
            out: Vec::new(),
            out_at: 0,
            eof: false,
            bytes: 0,
        }
    }

    /// Decodes the next run of input into `out`; false at the end.
    fn fill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.out_at = 0;
        while self.out.is_empty() {
            if self.eof {
                if self.carry.is_empty() {
                    return Ok(false);
                }
                // A lone byte or surrogate at the very end.
                self.carry.clear();
                self.out
                    .extend_from_slice(char::REPLACEMENT_CHARACTER.to_string().as_bytes());
                return Ok(true);
            }
            let n = loop {
                match self.inner.read(&mut self.raw) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            if n == 0 {
                self.eof = true;
                let mut units = std::mem::take(&mut self.carry);
                let odd = units.len() % 2 == 1;
                units.truncate(units.len() & !1);
                self.decode(&units);
                if odd {
                    self.carry.push(0);
                }
                continue;
            }
            self.bytes += n as u64;
            let mut data = std::mem::take(&mut self.carry);
            data.extend_from_slice(&self.raw[..n]);
            let mut even = data.len() & !1;
            // Keep a trailing high surrogate for the next read: its pair may be there.
            if even >= 2 {
                let last = unit(&data[even - 2..even], self.big_endian);
                if (0xD800..0xDC00).contains(&last) {
                    even -= 2;
                }
            }
            self.carry = data[even..].to_vec();
            self.decode(&data[..even]);
        }
        Ok(true)
    }

    fn decode(&mut self, data: &[u8]) {
        let big_endian = self.big_endian;
        let units = data.chunks_exact(2).map(|b| unit(b, big_endian));
        let mut buf = [0u8; 4];
        for c in char::decode_utf16(units) {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            self.out
                .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
}

fn unit(b: &[u8], big_endian: bool) -> u16 {
    if big_endian {
        u16::from_be_bytes([b[0], b[1]])
    } else {
        u16::from_le_bytes([b[0], b[1]])
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_at == self.out.len() && !self.fill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.out.len() - self.out_at);
        buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
        self.out_at += n;
        Ok(n)
    }
}

/// Reads `r` to the end in pieces of at most `chunk` bytes, UTF-16 decoded to UTF-8 first (see
/// the module notes). `scan` gets each piece and returns how many newlines it holds.
pub fn read_pieces<R: Read>(
    mut r: R,
    chunk: usize,
    scan: impl FnMut(&Piece) -> u64,
) -> io::Result<ReadStats> {
    let mut head = Vec::with_capacity(SNIFF);
    while head.len() < SNIFF {
        let mut buf = [0u8; SNIFF];
        match r.read(&mut buf[..SNIFF - head.len()]) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    match sniff_utf16(&head) {
        None => read_utf8_pieces(io::Cursor::new(head).chain(r), chunk, scan),
        Some((big_endian, bom)) => {
            let raw = io::Cursor::new(head.split_off(bom)).chain(r);
            let mut dec = Utf16Reader::new(raw, big_endian);
            let mut stats = read_utf8_pieces(&mut dec, chunk, scan)?;
            stats.bytes = dec.bytes + bom as u64;
            stats.decoded_from = Some(if big_endian { "UTF-16BE" } else { "UTF-16LE" });
            Ok(stats)
        }
    }
}

/// Reads UTF-8 (or any bytes) `r` to the end in pieces of at most `chunk` bytes. `scan` gets
/// each piece and returns how many newlines it holds (it counts them anyway, so they are not
/// counted twice).
fn read_utf8_pieces<R: Read>(
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

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(if big_endian {
                &[0xFE, 0xFF]
            } else {
                &[0xFF, 0xFE]
            });
        }
        for u in text.encode_utf16() {
            out.extend_from_slice(&if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        out
    }

    fn joined(input: &[u8], chunk: usize) -> (String, ReadStats) {
        let (got, stats) = pieces(input, chunk);
        let mut all = Vec::new();
        for (data, _, window, _) in got {
            assert!(!window);
            all.extend(data);
        }
        (String::from_utf8(all).expect("decoded to UTF-8"), stats)
    }

    #[test]
    fn utf16_is_decoded_with_or_without_a_byte_order_mark() {
        let text = "535 5.7.139 Authentication unsuccessful\r\nZähler 😀 AADSTS50126\r\n";
        for (big, bom, name) in [
            (false, true, "UTF-16LE"),
            (false, false, "UTF-16LE"),
            (true, true, "UTF-16BE"),
            (true, false, "UTF-16BE"),
        ] {
            let input = utf16(text, big, bom);
            let (got, stats) = joined(&input, CHUNK);
            assert_eq!(got, text, "{name} bom={bom}");
            assert_eq!(stats.decoded_from, Some(name));
            assert_eq!(stats.bytes, input.len() as u64);
            assert_eq!(stats.lines, 2);
            assert!(stats.decoding_note().is_some_and(|n| n.contains(name)));
        }
    }

    #[test]
    fn utf16_cut_anywhere_by_reads_decodes_the_same() {
        // A reader handing out 1 to 7 bytes at a time splits units and surrogate pairs.
        struct Dribble(Vec<u8>, usize, usize);
        impl Read for Dribble {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.2 = self.2 % 7 + 1;
                let n = self.2.min(buf.len()).min(self.0.len() - self.1);
                buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
                self.1 += n;
                Ok(n)
            }
        }
        let text: String = (0..3000).map(|i| format!("line {i} 😀 é\n")).collect();
        let mut got = Vec::new();
        let stats = read_pieces(Dribble(utf16(&text, false, true), 0, 0), 2 * OVERLAP, |p| {
            got.extend_from_slice(p.data);
            p.data.iter().filter(|&&b| b == b'\n').count() as u64
        })
        .expect("read");
        assert_eq!(String::from_utf8(got).expect("utf-8"), text);
        assert_eq!(stats.lines, 3000);
        // A lone surrogate and an odd last byte become replacement characters.
        let mut bad = utf16("ab", false, true);
        bad.extend_from_slice(&[0x00, 0xD8, b'x']);
        assert_eq!(joined(&bad, CHUNK).0, "ab\u{FFFD}\u{FFFD}");
    }

    #[test]
    fn utf8_and_binary_are_not_taken_for_utf16() {
        for input in [
            &b"535 5.7.139 Authentication unsuccessful\n"[..],
            b"\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x00\x00\xff\x00",
            b"a\x00",
            b"",
            // Starts like a UTF-16LE mark but is (broken) 8-bit text.
            b"\xff\xfe garbage \xc3\x28\nS: 550 5.7.64 TenantAttribution\n",
        ] {
            let (_, stats) = pieces(input, CHUNK);
            assert_eq!(stats.decoded_from, None, "{input:?}");
            assert_eq!(stats.bytes, input.len() as u64);
        }
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
