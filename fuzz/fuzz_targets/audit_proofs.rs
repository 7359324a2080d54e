//! Proof verification on attacker-supplied proofs: never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let a = u64::from_le_bytes(data[..8].try_into().unwrap_or_default());
    let b = u64::from_le_bytes(data[8..16].try_into().unwrap_or_default());
    let hashes: Vec<[u8; 32]> = data[16..]
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap_or([0; 32]))
        .collect();
    let h = [7u8; 32];
    let _ = portorium_audit::verify_inclusion(&h, a, b, &hashes, &h);
    let _ = portorium_audit::verify_consistency(a, b, &h, &h, &hashes);
});
