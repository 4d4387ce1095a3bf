//! A small little-endian binary codec for the in-memory state a checkpoint
//! saves (the identity graph and the order index): fixed-width integers,
//! length-prefixed strings and vectors, roaring bitmaps in their portable
//! format. Written by hand because the state is mostly flat vectors of
//! integers, which this encodes as straight copies, and because several of
//! its types live in crates that do not derive serde.

use roaring::RoaringBitmap;

/// Appends values to a byte buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.len(s.len());
        self.buf.extend_from_slice(s.as_bytes());
    }

    pub(crate) fn u32s(&mut self, v: &[u32]) {
        self.len(v.len());
        self.buf.reserve(v.len() * 4);
        for x in v {
            self.u32(*x);
        }
    }

    pub(crate) fn u64s(&mut self, v: &[u64]) {
        self.len(v.len());
        self.buf.reserve(v.len() * 8);
        for x in v {
            self.u64(*x);
        }
    }

    pub(crate) fn bitmap(&mut self, b: &RoaringBitmap) {
        self.len(b.serialized_size());
        b.serialize_into(&mut self.buf)
            .expect("writing to a Vec cannot fail");
    }
}

/// Reads values back, failing (never panicking) on truncated or bad input.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

/// What is wrong with encoded state.
pub(crate) type DecodeResult<T> = std::result::Result<T, String>;

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn take(&mut self, n: usize) -> DecodeResult<&'a [u8]> {
        if self.buf.len() < n {
            return Err(format!(
                "truncated: {n} bytes wanted, {} left",
                self.buf.len()
            ));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> DecodeResult<u8> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn bool(&mut self) -> DecodeResult<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("bad boolean {b}")),
        }
    }

    pub(crate) fn u32(&mut self) -> DecodeResult<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    pub(crate) fn u64(&mut self) -> DecodeResult<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    pub(crate) fn i64(&mut self) -> DecodeResult<i64> {
        Ok(i64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// A length, checked against what is left so a corrupt one cannot
    /// make the reader allocate without bound.
    pub(crate) fn len(&mut self, min_item_bytes: usize) -> DecodeResult<usize> {
        let n = self.u64()?;
        if n.saturating_mul(min_item_bytes.max(1) as u64) > self.buf.len() as u64 {
            return Err(format!(
                "length {n} exceeds the {} bytes left",
                self.buf.len()
            ));
        }
        Ok(n as usize)
    }

    pub(crate) fn str(&mut self) -> DecodeResult<String> {
        let n = self.len(1)?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|e| e.to_string())
    }

    pub(crate) fn u32s(&mut self) -> DecodeResult<Vec<u32>> {
        let n = self.len(4)?;
        let bytes = self.take(n * 4)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
    }

    pub(crate) fn u64s(&mut self) -> DecodeResult<Vec<u64>> {
        let n = self.len(8)?;
        let bytes = self.take(n * 8)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }

    pub(crate) fn bitmap(&mut self) -> DecodeResult<RoaringBitmap> {
        let n = self.len(1)?;
        RoaringBitmap::deserialize_from(self.take(n)?).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_truncation() {
        let mut w = Writer::default();
        w.u8(7);
        w.bool(true);
        w.i64(-5);
        w.str("上海");
        w.u32s(&[1, 2, u32::MAX]);
        w.u64s(&[u64::MAX]);
        w.bitmap(&[3u32, 1_000_000].into_iter().collect());
        let mut r = Reader::new(&w.buf);
        assert_eq!(r.u8().unwrap(), 7);
        assert!(r.bool().unwrap());
        assert_eq!(r.i64().unwrap(), -5);
        assert_eq!(r.str().unwrap(), "上海");
        assert_eq!(r.u32s().unwrap(), [1, 2, u32::MAX]);
        assert_eq!(r.u64s().unwrap(), [u64::MAX]);
        assert_eq!(
            r.bitmap().unwrap().iter().collect::<Vec<_>>(),
            [3, 1_000_000]
        );
        assert!(r.is_empty());

        let cut = &w.buf[..w.buf.len() - 3];
        let mut r = Reader::new(cut);
        let all = (|| -> DecodeResult<()> {
            r.u8()?;
            r.bool()?;
            r.i64()?;
            r.str()?;
            r.u32s()?;
            r.u64s()?;
            r.bitmap()?;
            Ok(())
        })();
        assert!(all.is_err());
        let mut huge = Writer::default();
        huge.u64(u64::MAX);
        assert!(
            Reader::new(&huge.buf)
                .u32s()
                .unwrap_err()
                .contains("exceeds")
        );
    }
}
