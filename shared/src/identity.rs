//! Device identity: each install has its own Automerge actor id and an Ed25519 key pair.
//!
//! The actor id is random (16 bytes) and never derived from the user id, so two installs of
//! the same cadre never collide, and a server can bind every actor to exactly one registered
//! device. Every local change is signed when it enters the outbox; the signature covers a
//! domain-separation tag, the record id and the change hash (which is itself the SHA-256 of the
//! change bytes), so a change cannot be replayed into another record or passed off as another
//! device's.
//!
//! Not here: key storage. The store keeps the identity in its `device` table, inside the
//! encrypted database ([`crate::store::key`]); the signing key is zeroed when the identity is
//! dropped (ed25519-dalek's `zeroize` feature).

use automerge::{ActorId, ChangeHash};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::error::{Error, Result};

const SIGNING_TAG: &[u8] = b"cunji-change-v1\0";
/// What the server's attestations sign, besides the record id and change hash: a tag of its
/// own, so that no attestation can pass for a device's signature or the other way round.
const ATTESTING_TAG: &[u8] = b"cunji-attest-v1\0";

/// This install's identity.
pub struct DeviceIdentity {
    pub device_id: String,
    pub actor: ActorId,
    signing: SigningKey,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("device_id", &self.device_id)
            .field("actor", &self.actor.to_hex_string())
            .field("public_key", &hex::encode(self.public_key()))
            .field("signing", &"<redacted>")
            .finish()
    }
}

impl DeviceIdentity {
    /// A fresh identity: a UUID v7 device id, a random actor and a random key pair.
    pub fn generate() -> Self {
        DeviceIdentity {
            device_id: uuid::Uuid::now_v7().to_string(),
            actor: crate::doc::new_actor(),
            signing: SigningKey::from_bytes(&rand::random::<[u8; 32]>()),
        }
    }

    /// An identity from its stored parts (a store's `device` row, a generated device).
    pub fn from_parts(device_id: String, actor: &[u8], secret: &[u8]) -> Option<Self> {
        let secret: [u8; 32] = secret.try_into().ok()?;
        Some(DeviceIdentity {
            device_id,
            actor: ActorId::from(actor),
            signing: SigningKey::from_bytes(&secret),
        })
    }

    pub(crate) fn secret_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// Signs arbitrary bytes (a push manifest).
    pub fn sign_message(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// Signs a change of record `doc_id`.
    pub fn sign_change(&self, doc_id: &str, hash: &ChangeHash) -> [u8; 64] {
        self.signing.sign(&payload(doc_id, hash)).to_bytes()
    }
}

/// Checks that `signature` was made by `public_key` over change `hash` of record `doc_id`.
pub fn verify_change(
    public_key: &[u8],
    doc_id: &str,
    hash: &ChangeHash,
    signature: &[u8],
) -> Result<()> {
    verify_tagged(SIGNING_TAG, public_key, doc_id, hash, signature)
}

/// Checks that `signature` was made by `public_key` over `message`.
pub fn verify_message(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(key) = <[u8; 32]>::try_from(public_key) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&key) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(signature) else {
        return false;
    };
    key.verify(message, &sig).is_ok()
}

/// The sync server's own key: it attests the changes that reach it without a device's
/// signature (`sync::protocol::Proof::Server`). Kept in a file of the server's, never in its
/// database: whoever can write the database cannot forge an attestation.
pub struct ServerKey {
    signing: SigningKey,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKey")
            .field("public_key", &hex::encode(self.public_key()))
            .finish()
    }
}

impl ServerKey {
    pub fn generate() -> ServerKey {
        ServerKey {
            signing: SigningKey::from_bytes(&rand::random::<[u8; 32]>()),
        }
    }

    pub fn from_secret(secret: &[u8]) -> Option<ServerKey> {
        Some(ServerKey {
            signing: SigningKey::from_bytes(&secret.try_into().ok()?),
        })
    }

    pub fn secret_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// Attests that the server took change `hash` of record `doc_id`.
    pub fn attest(&self, doc_id: &str, hash: &ChangeHash) -> [u8; 64] {
        self.signing
            .sign(&tagged(ATTESTING_TAG, doc_id, hash))
            .to_bytes()
    }
}

/// Checks that `signature` is the attestation of the server with `public_key` for change
/// `hash` of record `doc_id`.
pub fn verify_attestation(
    public_key: &[u8],
    doc_id: &str,
    hash: &ChangeHash,
    signature: &[u8],
) -> Result<()> {
    verify_tagged(ATTESTING_TAG, public_key, doc_id, hash, signature)
}

fn verify_tagged(
    tag: &[u8],
    public_key: &[u8],
    doc_id: &str,
    hash: &ChangeHash,
    signature: &[u8],
) -> Result<()> {
    let bad = || Error::BadSignature {
        hash: hash.to_string(),
    };
    let key: [u8; 32] = public_key.try_into().map_err(|_| bad())?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| bad())?;
    let sig = Signature::from_slice(signature).map_err(|_| bad())?;
    key.verify(&tagged(tag, doc_id, hash), &sig)
        .map_err(|_| bad())
}

fn payload(doc_id: &str, hash: &ChangeHash) -> Vec<u8> {
    tagged(SIGNING_TAG, doc_id, hash)
}

/// The bytes a device's key signs for change `hash` of record `doc_id` ([`verify_change`]
/// checks them): what a browser signs with its own key (WebCrypto Ed25519), which cannot
/// compute them without the tag.
pub fn change_signing_input(doc_id: &str, hash: &ChangeHash) -> Vec<u8> {
    payload(doc_id, hash)
}

fn tagged(tag: &[u8], doc_id: &str, hash: &ChangeHash) -> Vec<u8> {
    let mut p = Vec::with_capacity(tag.len() + doc_id.len() + 1 + 32);
    p.extend_from_slice(tag);
    p.extend_from_slice(doc_id.as_bytes());
    p.push(0);
    p.extend_from_slice(&hash.0);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_binds_device_record_and_change() {
        let a = DeviceIdentity::generate();
        let b = DeviceIdentity::generate();
        let hash = ChangeHash([7; 32]);
        let sig = a.sign_change("doc-1", &hash);
        assert!(verify_change(&a.public_key(), "doc-1", &hash, &sig).is_ok());
        // Another device's key, another record, another change: all rejected.
        assert!(verify_change(&b.public_key(), "doc-1", &hash, &sig).is_err());
        assert!(verify_change(&a.public_key(), "doc-2", &hash, &sig).is_err());
        assert!(verify_change(&a.public_key(), "doc-1", &ChangeHash([8; 32]), &sig).is_err());
        assert!(verify_change(&a.public_key(), "doc-1", &hash, &sig[..10]).is_err());
    }

    #[test]
    fn actors_are_random_not_derived() {
        let a = DeviceIdentity::generate();
        let b = DeviceIdentity::generate();
        assert_ne!(a.actor, b.actor);
        assert_eq!(a.actor.to_bytes().len(), 16);
        assert!(!format!("{a:?}").contains(&hex::encode(a.secret_bytes())));
    }
}
