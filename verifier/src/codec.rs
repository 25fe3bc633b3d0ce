//! The primitive reader and writer of the canonical binary encoding (see docs/FORMAT.md):
//! fixed-width big-endian integers, fixed-size byte arrays, and strings with a one-byte length.
//! The reader never allocates more than the input holds and reports the field that failed.

use crate::entry::DecodeError;

pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    pub(crate) fn with_capacity(n: usize) -> Writer {
        Writer(Vec::with_capacity(n))
    }
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(crate) fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }
    /// A string of at most 255 bytes, after a one-byte length. Callers validate lengths first.
    pub(crate) fn str8(&mut self, s: &str) {
        let len = u8::try_from(s.len()).expect("validated string fits a one-byte length");
        self.0.push(len);
        self.0.extend_from_slice(s.as_bytes());
    }
}

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf }
    }
    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated(field));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(
            self.take(2, field)?.try_into().expect("2 bytes"),
        ))
    }
    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(
            self.take(8, field)?.try_into().expect("8 bytes"),
        ))
    }
    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        Ok(self.take(N, field)?.try_into().expect("N bytes"))
    }
    pub(crate) fn str8(&mut self, field: &'static str, max: usize) -> Result<&'a str, DecodeError> {
        let len = self.u8(field)? as usize;
        if len > max {
            return Err(DecodeError::Oversize { field, max });
        }
        std::str::from_utf8(self.take(len, field)?).map_err(|_| DecodeError::Invalid {
            field,
            reason: "not UTF-8",
        })
    }
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes(self.buf.len()))
        }
    }
}
