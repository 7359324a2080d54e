//! Integration tests for portorium-audit: RFC 9162 vectors, proof properties,
//! canonical encoding, signed checkpoints and whole-log verification.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use portorium_audit::*;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};

type Nodes = HashMap<(u32, u64), Hash>;

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn h(s: &str) -> Hash {
    Hash::try_from(unhex(s).as_slice()).unwrap()
}

/// Naive recursive RFC 9162 MTH over leaf hashes, independent of the crate.
fn naive_mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&naive_mth(&leaves[..k]), &naive_mth(&leaves[k..]))
        }
    }
}

/// Build a tree from leaf hashes: the frontier plus every stored node.
fn build(leaves: &[Hash]) -> (Frontier, Nodes) {
    let mut f = Frontier::new();
    let mut nodes = Nodes::new();
    for (i, l) in leaves.iter().enumerate() {
        let out = f.append(*l);
        assert_eq!(out[0], (NodeId::new(0, i as u64), *l), "leaf node first");
        for (id, hash) in out {
            assert!(
                nodes.insert((id.level, id.index), hash).is_none(),
                "node emitted twice"
            );
        }
    }
    (f, nodes)
}

fn synthetic_leaves(n: usize) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
        .collect()
}

// ---------------------------------------------------------------------------
// RFC 6962 / 9162 reference vectors (certificate-transparency, transparency-dev)
// ---------------------------------------------------------------------------

const CT_LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const CT_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn ct_tree() -> (Vec<Hash>, Frontier, Nodes) {
    let leaves: Vec<Hash> = CT_LEAVES.iter().map(|l| leaf_hash(&unhex(l))).collect();
    let (f, nodes) = build(&leaves);
    (leaves, f, nodes)
}

#[test]
fn ct_reference_roots() {
    assert_eq!(empty_root(), h(CT_ROOTS[0]));
    assert_eq!(Frontier::new().root(), h(CT_ROOTS[0]));
    let (leaves, _, nodes) = ct_tree();
    let mut f = Frontier::new();
    for (n, leaf) in leaves.iter().enumerate() {
        f.append(*leaf);
        let want = h(CT_ROOTS[n + 1]);
        assert_eq!(f.root(), want, "frontier root size {}", n + 1);
        assert_eq!(subtree_root(&nodes, 0, n as u64 + 1).unwrap(), want);
        assert_eq!(naive_mth(&leaves[..=n]), want, "naive MTH size {}", n + 1);
    }
    assert_eq!(subtree_root(&nodes, 0, 0).unwrap(), empty_root());
}

#[test]
fn ct_reference_inclusion_proofs() {
    let (leaves, _, nodes) = ct_tree();
    let cases: [(u64, u64, &[&str]); 2] = [
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (index, size, want) in cases {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        let got = inclusion_proof(&nodes, index, size).unwrap();
        assert_eq!(got, want, "PATH({index}, D[{size}])");
        let root = h(CT_ROOTS[size as usize]);
        assert!(verify_inclusion(
            &leaves[index as usize],
            index,
            size,
            &got,
            &root
        ));
    }
}

#[test]
fn ct_reference_consistency_proofs() {
    let (_, _, nodes) = ct_tree();
    let cases: [(u64, u64, &[&str]); 3] = [
        (
            2,
            8,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (m, n, want) in cases {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        let got = consistency_proof(&nodes, m, n).unwrap();
        assert_eq!(got, want, "PROOF({m}, D[{n}])");
        let (r1, r2) = (h(CT_ROOTS[m as usize]), h(CT_ROOTS[n as usize]));
        assert!(verify_consistency(m, n, &r1, &r2, &got));
        assert!(!verify_consistency(m, n, &r2, &r1, &got));
    }
}

#[test]
fn degenerate_proofs_and_errors() {
    let (leaves, f, nodes) = ct_tree();
    let root8 = f.root();
    let root4 = h(CT_ROOTS[4]);
    // Same size: empty proof, equal roots.
    assert!(consistency_proof(&nodes, 8, 8).unwrap().is_empty());
    assert!(verify_consistency(8, 8, &root8, &root8, &[]));
    assert!(!verify_consistency(8, 8, &root8, &root4, &[]));
    assert!(!verify_consistency(8, 8, &root8, &root8, &[root8]));
    // From the empty tree.
    assert!(consistency_proof(&nodes, 0, 8).unwrap().is_empty());
    assert!(verify_consistency(0, 8, &empty_root(), &root8, &[]));
    assert!(!verify_consistency(0, 8, &empty_root(), &root8, &[root8]));
    // Non-trivial sizes need a proof; shrinking is refused.
    assert!(!verify_consistency(4, 8, &root4, &root8, &[]));
    assert!(!verify_consistency(8, 4, &root8, &root4, &[]));
    assert!(matches!(
        consistency_proof(&nodes, 5, 3),
        Err(AuditError::InvalidSizes {
            old_size: 5,
            new_size: 3
        })
    ));
    // Inclusion out of range.
    assert!(matches!(
        inclusion_proof(&nodes, 8, 8),
        Err(AuditError::IndexOutOfRange {
            index: 8,
            tree_size: 8
        })
    ));
    let p = inclusion_proof(&nodes, 5, 8).unwrap();
    assert!(!verify_inclusion(&leaves[5], 8, 8, &p, &root8));
    assert!(!verify_inclusion(&leaves[5], 4, 8, &p, &root8));
    assert!(!verify_inclusion(&leaves[5], 5, 6, &p, &root8));
    assert!(!verify_inclusion(&leaves[5], 5, 8, &p[..2], &root8));
    let mut longer = p.clone();
    longer.push([0xab; 32]);
    assert!(!verify_inclusion(&leaves[5], 5, 8, &longer, &root8));
    // Size-1 tree: empty path.
    assert!(inclusion_proof(&nodes, 0, 1).unwrap().is_empty());
    assert!(verify_inclusion(&leaves[0], 0, 1, &[], &leaves[0]));
    // Ranges and missing nodes.
    assert!(matches!(
        subtree_root(&nodes, 5, 3),
        Err(AuditError::InvalidRange { start: 5, end: 3 })
    ));
    assert!(matches!(
        subtree_root(&nodes, 0, 9),
        Err(AuditError::MissingNode(NodeId { level: 0, index: 8 }))
    ));
    assert!(matches!(
        Frontier::from_source(16, &nodes),
        Err(AuditError::MissingNode(NodeId { level: 4, index: 0 }))
    ));
    // Arbitrary (unaligned) ranges are still the RFC MTH.
    assert_eq!(
        subtree_root(&nodes, 3, 8).unwrap(),
        naive_mth(&leaves[3..8])
    );
    assert_eq!(
        subtree_root(&nodes, 1, 4).unwrap(),
        naive_mth(&leaves[1..4])
    );
}

/// A node source that returns a deterministic fake hash and counts lookups.
struct Counting {
    size: u64,
    calls: Cell<u64>,
}

impl NodeSource for Counting {
    fn node(&self, id: NodeId) -> Result<Hash, AuditError> {
        self.calls.set(self.calls.get() + 1);
        let (_, end) = id.range().ok_or(AuditError::MissingNode(id))?;
        if end > self.size {
            return Err(AuditError::MissingNode(id));
        }
        Ok(leaf_hash(
            &[id.level.to_be_bytes().as_slice(), &id.index.to_be_bytes()].concat(),
        ))
    }
}

#[test]
fn proof_generation_needs_only_log_squared_lookups() {
    let n: u64 = (1 << 40) + 12_345_677;
    let bound = {
        let lg = 64 - n.leading_zeros() as u64;
        lg * lg
    };
    let src = Counting {
        size: n,
        calls: Cell::new(0),
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..50 {
        let index = rng.gen_range(0..n);
        src.calls.set(0);
        let p = inclusion_proof(&src, index, n).unwrap();
        assert!(p.len() <= 41);
        assert!(
            src.calls.get() <= bound,
            "inclusion lookups {}",
            src.calls.get()
        );

        let m = rng.gen_range(1..=n);
        src.calls.set(0);
        consistency_proof(&src, m, n).unwrap();
        assert!(
            src.calls.get() <= bound,
            "consistency lookups {}",
            src.calls.get()
        );
    }
    src.calls.set(0);
    let f = Frontier::from_source(n, &src).unwrap();
    assert_eq!(src.calls.get(), u64::from(n.count_ones()));
    assert_eq!(f.size(), n);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn proofs_verify_and_tampering_fails(n in 1usize..=300, flip in any::<u32>(), bit in 0u8..8) {
        let leaves = synthetic_leaves(n);
        let (f, nodes) = build(&leaves);
        let root = f.root();
        prop_assert_eq!(root, naive_mth(&leaves));
        let size = n as u64;

        for i in 0..size {
            let p = inclusion_proof(&nodes, i, size).unwrap();
            prop_assert!(verify_inclusion(&leaves[i as usize], i, size, &p, &root));
            if !p.is_empty() {
                let mut bad = p.clone();
                let pos = flip as usize % (bad.len() * 32);
                bad[pos / 32][pos % 32] ^= 1 << bit;
                prop_assert!(!verify_inclusion(&leaves[i as usize], i, size, &bad, &root));
            }
            // Another leaf at this index is rejected.
            let other = leaf_hash(b"not a leaf");
            prop_assert!(!verify_inclusion(&other, i, size, &p, &root));
        }

        let mut rebuilt = Frontier::new();
        let mut previous_root = None;
        for m in 0..=size {
            let old_root = rebuilt.root();
            // The naive MTH is O(m); compare it on a sample of sizes to keep the test fast.
            if m == size || m.is_power_of_two() || m == u64::from(flip) % (size + 1) || m % 7 == 3 {
                prop_assert_eq!(naive_mth(&leaves[..m as usize]), old_root);
            }
            prop_assert_eq!(subtree_root(&nodes, 0, m).unwrap(), old_root);
            let from_src = Frontier::from_source(m, &nodes).unwrap();
            prop_assert_eq!(&from_src, &rebuilt);

            let p = consistency_proof(&nodes, m, size).unwrap();
            prop_assert!(verify_consistency(m, size, &old_root, &root, &p));
            if !p.is_empty() {
                let mut bad = p.clone();
                let pos = flip as usize % (bad.len() * 32);
                bad[pos / 32][pos % 32] ^= 1 << bit;
                prop_assert!(!verify_consistency(m, size, &old_root, &root, &bad));
                prop_assert!(!verify_consistency(m, size, &old_root, &root, &p[..p.len() - 1]));
            }
            if m > 0 && m < size {
                // A wrong old root is rejected.
                if let Some(wrong) = previous_root {
                    prop_assert!(!verify_consistency(m, size, &wrong, &root, &p));
                }
            }
            previous_root = Some(old_root);
            if m < size {
                rebuilt.append(leaves[m as usize]);
            }
        }
    }

    #[test]
    fn frontier_continues_after_rebuild(n in 0usize..200, extra in 0usize..100) {
        let leaves = synthetic_leaves(n + extra);
        let (full, nodes) = build(&leaves);
        let mut f = Frontier::from_source(n as u64, &nodes).unwrap();
        for (i, l) in leaves[n..].iter().enumerate() {
            for (id, hash) in f.append(*l) {
                prop_assert_eq!(nodes.get(&(id.level, id.index)), Some(&hash), "leaf {}", n + i);
            }
        }
        prop_assert_eq!(f, full);
    }
}

// ---------------------------------------------------------------------------
// Entries
// ---------------------------------------------------------------------------

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 9, 26, 53).unwrap() + Duration::microseconds(589_793)
}

fn entry(seq: u64) -> AuditEntry {
    AuditEntry {
        seq,
        time: t0() + Duration::seconds(seq as i64),
        principal: Some("officer:NL/jdevries".into()),
        tenant: Some("NL".into()),
        circle: Some("administration".into()),
        action: if seq & 1 == 0 {
            "token.issue".into()
        } else {
            "POST /api/v1/offices".into()
        },
        resource: format!("office/NL{seq:06}"),
        outcome: if seq % 5 == 3 {
            Outcome::Denied
        } else {
            Outcome::Success
        },
        request_id: Some(format!("req-{seq}")),
        payload_hash: Some(payload_hash(format!("payload {seq}").as_bytes())),
        detail: None,
    }
}

#[test]
fn canonical_bytes_are_deterministic() {
    let e = entry(42);
    assert_eq!(e.canonical_bytes(), e.canonical_bytes());
    assert_eq!(e.canonical_bytes(), e.clone().canonical_bytes());
    assert_eq!(e.leaf_hash(), leaf_hash(&e.canonical_bytes()));
    // Serde round trip keeps the hash.
    let json = serde_json::to_string(&e).unwrap();
    let back: AuditEntry = serde_json::from_str(&json).unwrap();
    assert_eq!(back.leaf_hash(), e.leaf_hash());
    // Time is canonical at microsecond precision.
    let mut nanos = e.clone();
    nanos.time += Duration::nanoseconds(999);
    assert_eq!(nanos.canonical_bytes(), e.canonical_bytes());
    assert_eq!(e.canonical_time(), "2025-03-14T09:27:35.589793Z");
    // Pin the layout's start: tag, seq.
    let b = e.canonical_bytes();
    assert_eq!(&b[..8], &(CANONICAL_TAG.len() as u64).to_be_bytes());
    assert_eq!(&b[8..8 + CANONICAL_TAG.len()], CANONICAL_TAG);
    assert_eq!(
        &b[8 + CANONICAL_TAG.len()..16 + CANONICAL_TAG.len()],
        &42u64.to_be_bytes()
    );
}

#[test]
fn canonical_bytes_change_with_every_field() {
    type Mutation = (&'static str, fn(&mut AuditEntry));
    let mutations: Vec<Mutation> = vec![
        ("seq", |e| e.seq += 1),
        ("time", |e| e.time += Duration::microseconds(1)),
        ("principal", |e| {
            e.principal = Some("officer:NL/other".into())
        }),
        ("principal none", |e| e.principal = None),
        ("principal empty", |e| e.principal = Some(String::new())),
        ("tenant", |e| e.tenant = Some("BE".into())),
        ("tenant none", |e| e.tenant = None),
        ("circle", |e| e.circle = Some("trader".into())),
        ("circle none", |e| e.circle = None),
        ("action", |e| e.action.push('x')),
        ("resource", |e| e.resource.push('x')),
        ("outcome failure", |e| e.outcome = Outcome::Failure),
        ("outcome denied", |e| e.outcome = Outcome::Denied),
        ("request_id", |e| e.request_id = Some("req-other".into())),
        ("request_id none", |e| e.request_id = None),
        ("payload_hash", |e| {
            e.payload_hash = Some(payload_hash(b"other"))
        }),
        ("payload_hash none", |e| e.payload_hash = None),
        ("detail", |e| {
            e.detail = Some("refused: missing role".into())
        }),
        ("detail empty", |e| e.detail = Some(String::new())),
        // Moving bytes between adjacent fields must not collide.
        ("action/resource boundary", |e| {
            let c = e.resource.remove(0);
            e.action.push(c);
        }),
        ("principal/tenant boundary", |e| {
            e.principal = Some("officer:NL/jdevriesN".into());
            e.tenant = Some("L".into());
        }),
    ];
    let base = entry(4);
    assert_eq!(base.outcome, Outcome::Success);
    let mut seen = HashMap::new();
    seen.insert(base.canonical_bytes(), "base");
    for (name, mutate) in mutations {
        let mut e = base.clone();
        mutate(&mut e);
        assert_ne!(e, base, "{name} must change the entry");
        let bytes = e.canonical_bytes();
        if let Some(prev) = seen.insert(bytes, name) {
            panic!("{name} encodes like {prev}");
        }
        assert_ne!(e.leaf_hash(), base.leaf_hash(), "{name}");
    }
}

#[test]
fn outcome_and_payload_hash_formats() {
    assert_eq!(
        serde_json::to_string(&Outcome::Denied).unwrap(),
        "\"denied\""
    );
    assert_eq!(
        payload_hash(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

// ---------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------

const ORIGIN: &str = "portorium.test/audit";

fn signer(seed: u8) -> CheckpointSigner {
    CheckpointSigner::from_seed([seed; 32])
}

fn checkpoint(size: u64, root: Hash) -> Checkpoint {
    Checkpoint {
        origin: ORIGIN.into(),
        size,
        root,
        time: t0() + Duration::nanoseconds(123_456_789),
    }
}

#[test]
fn checkpoint_sign_and_verify() {
    let s = signer(1);
    let key = s.verifying_key();
    let root = h(CT_ROOTS[8]);
    let signed = s.sign(checkpoint(8, root));
    assert!(signed.verify(&key));
    assert_eq!(signed.key_id, s.key_id());
    assert_eq!(signed.key_id.len(), 8);
    assert_eq!(key_id(&key), s.key_id());
    // Time truncated to microseconds so it survives storage.
    assert_eq!(signed.checkpoint.time.timestamp_subsec_nanos() % 1000, 0);
    assert_eq!(
        signed.checkpoint.body(),
        "portorium.test/audit\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\
         2025-03-14T09:26:53.713249Z\n"
    );

    // Wrong key, tampered fields, mangled signature: rejected.
    assert!(!signed.verify(&signer(2).verifying_key()));
    let tamper: Vec<fn(&mut SignedCheckpoint)> = vec![
        |c| c.checkpoint.size += 1,
        |c| c.checkpoint.root[0] ^= 1,
        |c| c.checkpoint.origin.push('x'),
        |c| c.checkpoint.origin.push('\n'),
        |c| c.checkpoint.time += Duration::microseconds(1),
        |c| c.key_id = "00000000".into(),
        |c| c.signature = "not base64!".into(),
        |c| c.signature.truncate(40),
        |c| {
            let mut raw = base64_decode(&c.signature);
            raw[10] ^= 0x20;
            c.signature = base64_encode(&raw);
        },
    ];
    for (i, t) in tamper.into_iter().enumerate() {
        let mut c = signed.clone();
        t(&mut c);
        assert!(!c.verify(&key), "tamper #{i}");
    }

    // JSON round trip keeps the signature valid; root is base64.
    let json = serde_json::to_value(&signed).unwrap();
    assert_eq!(
        json["checkpoint"]["root"],
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="
    );
    let back: SignedCheckpoint = serde_json::from_value(json).unwrap();
    assert_eq!(back, signed);
    assert!(back.verify(&key));
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn checkpoint_note_format() {
    let s = signer(3);
    let signed = s.sign(checkpoint(5, h(CT_ROOTS[5])));
    let note = signed.to_note();
    let body = signed.checkpoint.body();
    assert!(note.starts_with(&body));
    let rest = &note[body.len()..];
    let prefix = format!("\n\u{2014} {ORIGIN} ");
    assert!(rest.starts_with(&prefix), "{rest:?}");
    assert!(rest.ends_with('\n'));
    let blob = base64_decode(rest[prefix.len()..].trim_end());
    assert_eq!(blob.len(), 68);
    assert_eq!(hex::encode(&blob[..4]), s.key_id());
    assert_eq!(base64_encode(&blob[4..]), signed.signature);
}

#[test]
fn signer_pem_round_trip() {
    let s = signer(9);
    let pem = s.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let back = CheckpointSigner::from_pkcs8_pem(&pem).unwrap();
    assert_eq!(back.verifying_key(), s.verifying_key());
    assert_eq!(back.key_id(), s.key_id());
    let cp = checkpoint(1, h(CT_ROOTS[1]));
    assert_eq!(back.sign(cp.clone()), s.sign(cp.clone()));

    let pub_pem = s.public_key_pem().unwrap();
    assert!(pub_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let vk = verifying_key_from_pem(&pub_pem).unwrap();
    assert_eq!(vk, s.verifying_key());
    assert!(s.sign(cp).verify(&vk));

    assert!(matches!(
        CheckpointSigner::from_pkcs8_pem("garbage"),
        Err(AuditError::Key(_))
    ));
    assert!(matches!(
        verifying_key_from_pem(&pem),
        Err(AuditError::Key(_))
    ));
    // Debug does not leak the secret.
    let dbg = format!("{s:?}");
    assert!(dbg.contains(&s.key_id()) && !dbg.contains("BEGIN"));

    // Random seeds give distinct keys.
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let a = CheckpointSigner::from_seed(rng.gen());
    let b = CheckpointSigner::from_seed(rng.gen());
    assert_ne!(a.key_id(), b.key_id());
}

// ---------------------------------------------------------------------------
// Whole-log verification
// ---------------------------------------------------------------------------

const LOG_SIZE: u64 = 20;
const CHECKPOINT_SIZES: [u64; 4] = [5, 10, 16, 20];

struct Log {
    rows: Vec<StoredEntry>,
    nodes: Nodes,
    checkpoints: Vec<SignedCheckpoint>,
    signer: CheckpointSigner,
    root: Hash,
}

fn log() -> Log {
    let signer = signer(7);
    let mut f = Frontier::new();
    let mut nodes = Nodes::new();
    let mut rows = Vec::new();
    let mut checkpoints = Vec::new();
    for seq in 0..LOG_SIZE {
        let e = entry(seq);
        let leaf = e.leaf_hash();
        for (id, hash) in f.append(leaf) {
            nodes.insert((id.level, id.index), hash);
        }
        rows.push(StoredEntry {
            entry: e,
            stored_leaf_hash: leaf,
        });
        if CHECKPOINT_SIZES.contains(&f.size()) {
            checkpoints.push(signer.sign(checkpoint(f.size(), f.root())));
        }
    }
    // Stored in some other order: the verifier sorts them.
    checkpoints.reverse();
    Log {
        rows,
        nodes,
        checkpoints,
        root: f.root(),
        signer,
    }
}

fn run(log: &Log, rows: &[StoredEntry]) -> Result<VerifyReport, VerifyFailure> {
    let mut v = Verifier::new(log.signer.verifying_key(), log.checkpoints.clone());
    for r in rows {
        v.push(r)?;
    }
    v.finish()
}

fn restamp(row: &mut StoredEntry) {
    row.stored_leaf_hash = row.entry.leaf_hash();
}

#[test]
fn intact_log_verifies() {
    let log = log();
    let mut v = Verifier::new(log.signer.verifying_key(), log.checkpoints.clone());
    for r in &log.rows {
        v.push(r).unwrap();
    }
    assert_eq!(v.entries(), LOG_SIZE);
    let mut ids: Vec<_> = log.nodes.iter().collect();
    ids.sort();
    for (&(level, index), hash) in ids {
        v.check_node(NodeId::new(level, index), hash).unwrap();
    }
    let report = v.finish().unwrap();
    assert_eq!(
        report,
        VerifyReport {
            entries: LOG_SIZE,
            checkpoints: CHECKPOINT_SIZES.len() as u64,
            root: log.root
        }
    );
}

#[test]
fn empty_log() {
    let s = signer(7);
    let v = Verifier::new(s.verifying_key(), vec![s.sign(checkpoint(0, empty_root()))]);
    assert_eq!(
        v.finish().unwrap(),
        VerifyReport {
            entries: 0,
            checkpoints: 1,
            root: empty_root()
        }
    );
    // A size-0 checkpoint before a non-empty log is fine too.
    let log = log();
    let mut cps = log.checkpoints.clone();
    cps.push(log.signer.sign(checkpoint(0, empty_root())));
    let mut v = Verifier::new(log.signer.verifying_key(), cps);
    for r in &log.rows {
        v.push(r).unwrap();
    }
    assert_eq!(v.finish().unwrap().checkpoints, 5);
    // Everything deleted.
    let err = run(&log, &[]).unwrap_err();
    assert_eq!(err.first_bad_seq, Some(0));
}

#[test]
fn altered_content_is_detected_at_that_seq() {
    let log = log();
    let mut rows = log.rows.clone();
    rows[7].entry.action = "token.revoke".into();
    let err = run(&log, &rows).unwrap_err();
    assert_eq!(err.first_bad_seq, Some(7));
    assert!(err.reason.contains("seq 7"), "{}", err.reason);
}

#[test]
fn altered_content_with_matching_leaf_hash_is_caught_by_checkpoint() {
    let log = log();
    let mut rows = log.rows.clone();
    rows[7].entry.outcome = Outcome::Success;
    rows[7].entry.detail = Some("nothing to see".into());
    restamp(&mut rows[7]);
    let err = run(&log, &rows).unwrap_err();
    assert_eq!(err.first_bad_seq, Some(5));
    assert!(err.reason.contains("[5, 10)"), "{}", err.reason);
    assert!(err.reason.contains("size 10"), "{}", err.reason);
    // Before the first checkpoint: range starts at 0.
    let mut rows = log.rows.clone();
    rows[2].entry.resource = "office/XX".into();
    restamp(&mut rows[2]);
    let err = run(&log, &rows).unwrap_err();
    assert_eq!(err.first_bad_seq, Some(0));
    assert!(err.reason.contains("[0, 5)"), "{}", err.reason);
}

#[test]
fn stored_nodes_are_cross_checked() {
    // A tampered stored node is reported with the leaf range it covers.
    let log = log();
    let mut v = Verifier::new(log.signer.verifying_key(), log.checkpoints.clone());
    for r in &log.rows {
        v.push(r).unwrap();
    }
    let mut forged = log.nodes[&(2, 4)];
    forged[0] ^= 1;
    let err = v.check_node(NodeId::new(2, 4), &forged).unwrap_err();
    assert_eq!(err.first_bad_seq, None);
    assert!(err.reason.contains("[16, 20)"), "{}", err.reason);
    // A node beyond the entries is evidence of truncation.
    let err = v
        .check_node(NodeId::new(0, LOG_SIZE), &[0; 32])
        .unwrap_err();
    assert_eq!(err.first_bad_seq, Some(LOG_SIZE));
    assert!(v.check_node(NodeId::new(64, 0), &[0; 32]).is_err());
}

#[test]
fn deleted_middle_row_is_detected() {
    let log = log();
    let mut rows = log.rows.clone();
    rows.remove(12);
    let err = run(&log, &rows).unwrap_err();
    assert_eq!(err.first_bad_seq, Some(12));
    assert!(err.reason.contains("missing"), "{}", err.reason);

    // Deleting and renumbering (re-hashing) the rest is caught by the next checkpoint.
    for (i, r) in rows.iter_mut().enumerate().skip(12) {
        r.entry.seq = i as u64;
        restamp(r);
    }
    let err = run(&log, &rows).unwrap_err();
    assert_eq!(err.first_bad_seq, Some(10));
    assert!(err.reason.contains("[10, 16)"), "{}", err.reason);
}

#[test]
fn truncation_is_detected() {
    let log = log();
    for keep in [0usize, 3, 8, 17, 19] {
        let err = run(&log, &log.rows[..keep]).unwrap_err();
        assert_eq!(err.first_bad_seq, Some(keep as u64), "keep {keep}");
        assert!(err.reason.contains("truncation"), "{}", err.reason);
    }
}

#[test]
fn reordered_rows_are_detected() {
    let log = log();
    let mut rows = log.rows.clone();
    rows.swap(3, 4);
    let err = run(&log, &rows).unwrap_err();
    assert_eq!(err.first_bad_seq, Some(3));
    assert!(
        err.reason.contains("expected entry seq 3"),
        "{}",
        err.reason
    );
    // Repeated row.
    let mut rows = log.rows.clone();
    rows.insert(6, rows[5].clone());
    let err = run(&log, &rows).unwrap_err();
    assert_eq!(err.first_bad_seq, Some(6));
    assert!(
        err.reason.contains("repeated or out of order"),
        "{}",
        err.reason
    );
}

#[test]
fn forged_checkpoint_is_detected() {
    let log = log();
    // Forged root with the original signature.
    let mut cps = log.checkpoints.clone();
    cps[1].checkpoint.root = [0x42; 32];
    let mut v = Verifier::new(log.signer.verifying_key(), cps.clone());
    let err = v.push(&log.rows[0]).unwrap_err();
    assert_eq!(err.first_bad_seq, None);
    assert!(err.reason.contains("invalid signature"), "{}", err.reason);
    let v = Verifier::new(log.signer.verifying_key(), cps);
    assert!(v.finish().unwrap_err().reason.contains("invalid signature"));

    // Signed by another key.
    let mut cps = log.checkpoints.clone();
    cps.push(signer(8).sign(checkpoint(LOG_SIZE, log.root)));
    let err = run(
        &Log {
            checkpoints: cps,
            ..log
        },
        &[],
    )
    .unwrap_err();
    assert!(err.reason.contains("invalid signature"), "{}", err.reason);
}
