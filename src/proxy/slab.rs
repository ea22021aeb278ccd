//! A slot table handing out (index, generation) keys for epoll tokens.
//!
//! One `epoll_wait` batch can hold events for a connection that an earlier
//! event of the same batch closed, and whose slot a new connection already
//! reused; the generation in the token tells such stale events apart.

/// Slots of `T` addressed by index, each stamped with a generation.
#[derive(Debug)]
pub(super) struct Slab<T> {
    slots: Vec<(u32, Option<T>)>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

/// Largest generation; keeps bit 63 of a token clear for the fixed tokens.
const GEN_MASK: u32 = 0x7fff_ffff;

impl<T> Slab<T> {
    /// Stores `value`, returning its (index, generation).
    pub fn insert(&mut self, value: T) -> (u32, u32) {
        if let Some(idx) = self.free.pop() {
            let slot = &mut self.slots[idx as usize];
            slot.1 = Some(value);
            (idx, slot.0)
        } else {
            self.slots.push((0, Some(value)));
            ((self.slots.len() - 1) as u32, 0)
        }
    }

    /// The value at `idx` if it still has generation `generation`.
    pub fn get_mut(&mut self, idx: u32, generation: u32) -> Option<&mut T> {
        match self.slots.get_mut(idx as usize) {
            Some((g, Some(v))) if *g == generation => Some(v),
            _ => None,
        }
    }

    /// Takes the value at `idx` out, retiring its generation.
    pub fn remove(&mut self, idx: u32) -> Option<T> {
        let slot = self.slots.get_mut(idx as usize)?;
        let value = slot.1.take()?;
        slot.0 = slot.0.wrapping_add(1) & GEN_MASK;
        self.free.push(idx);
        Some(value)
    }

    /// Iterates over (index, value) of stored values.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, (_, v))| v.as_ref().map(|v| (i as u32, v)))
    }
}

/// Packs a key and a 1-bit side into an epoll token.
pub(super) fn token(idx: u32, generation: u32, side: usize) -> u64 {
    (u64::from(generation) << 32) | (u64::from(idx) << 1) | (side as u64 & 1)
}

/// Unpacks [`token`]: (index, generation, side).
pub(super) fn untoken(tok: u64) -> (u32, u32, usize) {
    (
        ((tok & 0xffff_ffff) >> 1) as u32,
        (tok >> 32) as u32,
        (tok & 1) as usize,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_generation_is_rejected() {
        let mut s = Slab::default();
        let (i, g) = s.insert("a");
        assert_eq!(s.remove(i), Some("a"));
        let (j, h) = s.insert("b");
        assert_eq!((i, g + 1), (j, h));
        assert!(s.get_mut(i, g).is_none());
        assert_eq!(s.get_mut(j, h), Some(&mut "b"));
        assert_eq!(untoken(token(j, h, 1)), (j, h, 1));
    }
}
