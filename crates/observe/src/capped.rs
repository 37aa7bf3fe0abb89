//! The size cap of `LogEvent`'s lines: a writer that keeps the first bytes and counts
//! the rest.

use std::io::{self, Write};

/// A writer that keeps the first `cap` bytes and counts the rest.
#[derive(Debug)]
pub(crate) struct CappedWriter {
    kept: Vec<u8>,
    cap: usize,
    total: usize,
}

/// What a [`CappedWriter`] kept.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Capped {
    /// The text kept, cut at a character boundary.
    pub(crate) text: String,
    /// How many bytes were written in all.
    pub(crate) total: usize,
    /// How many bytes were dropped: `total - text.len()`.
    pub(crate) dropped: usize,
}

impl CappedWriter {
    pub(crate) fn new(cap: usize) -> Self {
        CappedWriter {
            // Small documents are common: do not reserve a large cap up front.
            kept: Vec::with_capacity(cap.min(4096)),
            cap,
            total: 0,
        }
    }

    pub(crate) fn finish(self) -> Capped {
        let mut kept = self.kept;
        // The cap may have cut a multi-byte character: drop its first bytes too.
        if let Err(error) = std::str::from_utf8(&kept) {
            kept.truncate(error.valid_up_to());
        }
        let text = String::from_utf8(kept).unwrap_or_default();
        Capped {
            dropped: self.total - text.len(),
            total: self.total,
            text,
        }
    }
}

impl Write for CappedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.cap.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&buf[..buf.len().min(room)]);
        self.total += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{Capped, CappedWriter};

    #[test]
    fn the_cap_cuts_on_a_character_boundary() {
        let mut writer = CappedWriter::new(4);
        std::io::Write::write_all(&mut writer, "abcé".as_bytes()).unwrap(); // é is two bytes
        assert_eq!(
            writer.finish(),
            Capped {
                text: "abc".into(),
                total: 5,
                dropped: 2
            }
        );

        let mut writer = CappedWriter::new(0);
        std::io::Write::write_all(&mut writer, b"xyz").unwrap();
        assert_eq!(writer.finish().dropped, 3);
    }
}
