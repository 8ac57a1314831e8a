//! Proof of authorship on the device: every change a pull or a repair brings is checked
//! against what proves its author before the device applies it (protocol 2).
//!
//! A change comes with a [`Proof`]: its author device's signature over the record id and the
//! change hash, checked with the key the response names for the change's actor, or the
//! server's attestation, checked with the server's key. The device keeps the keys it has
//! accepted (its *keyring*, in its store): the first key it sees for an actor, and the first
//! server key, are kept, and a later response naming another key for either is refused
//! whole. So a server whose database was altered (a change's bytes, its signature, the key
//! of a device already known) cannot pass the alteration to a phone that has synced before:
//! the phone refuses the page, applies nothing of it and says so ([`Unverified`]); the
//! cursor stays, so once the server is mended the same pull goes through.
//!
//! What this does not prove: the first key a phone learns for an actor is the server's word
//! (trust on first use). `cunji-sync-server verify-log` checks the whole log against the
//! keys the devices registered when they signed in.

use std::collections::HashMap;

use automerge::ChangeHash;

use super::protocol::{AuthorKey, Proof};
use crate::identity::{verify_attestation, verify_change};

/// Why a response's changes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unverified {
    #[error("record {doc_id}: {reason}")]
    Change { doc_id: String, reason: String },
    #[error("the server's key changed (it was {was}, it is now {now})")]
    ServerKeyChanged { was: String, now: String },
    #[error("the key of device actor {actor} changed")]
    AuthorKeyChanged { actor: String },
}

/// A device actor's id and its public key.
pub type ActorKey = (Vec<u8>, Vec<u8>);

/// The keys a device trusts: those it has kept, and those a response names for this check.
#[derive(Debug, Default)]
pub struct Keyring {
    /// Actor id → public key.
    authors: HashMap<Vec<u8>, Vec<u8>>,
    server: Option<Vec<u8>>,
    /// Keys first seen in this response, to keep once its changes are applied.
    fresh: Vec<ActorKey>,
    fresh_server: bool,
}

impl Keyring {
    /// A keyring holding the keys kept so far.
    pub fn new(authors: HashMap<Vec<u8>, Vec<u8>>, server: Option<Vec<u8>>) -> Keyring {
        Keyring {
            authors,
            server,
            ..Keyring::default()
        }
    }

    /// Takes in a response's keys: new ones are noted, a kept one named with another key
    /// refuses the whole response.
    pub fn admit(&mut self, keys: &[AuthorKey], server_key: &[u8]) -> Result<(), Unverified> {
        match &self.server {
            Some(kept) if kept.as_slice() != server_key => {
                return Err(Unverified::ServerKeyChanged {
                    was: hex::encode(kept),
                    now: hex::encode(server_key),
                });
            }
            Some(_) => {}
            None => {
                self.server = Some(server_key.to_vec());
                self.fresh_server = true;
            }
        }
        for k in keys {
            match self.authors.get(&k.actor) {
                Some(kept) if *kept != k.public_key => {
                    return Err(Unverified::AuthorKeyChanged {
                        actor: hex::encode(&k.actor),
                    });
                }
                Some(_) => {}
                None => {
                    self.authors.insert(k.actor.clone(), k.public_key.clone());
                    self.fresh.push((k.actor.clone(), k.public_key.clone()));
                }
            }
        }
        Ok(())
    }

    /// Checks `proof` for change `bytes` of record `doc_id`; returns the parsed change.
    pub fn check(
        &self,
        doc_id: &str,
        bytes: &[u8],
        proof: &Proof,
    ) -> Result<automerge::Change, Unverified> {
        let refuse = |reason: &str| Unverified::Change {
            doc_id: doc_id.to_string(),
            reason: reason.to_string(),
        };
        let change = crate::doc::change_from_bytes(bytes.to_vec())
            .map_err(|_| refuse("not an Automerge change"))?;
        let hash: ChangeHash = change.hash();
        match proof {
            Proof::Device(signature) => {
                let actor = change.actor_id().to_bytes();
                let key = self
                    .authors
                    .get(actor)
                    .ok_or_else(|| refuse("no key is known for the device that made it"))?;
                verify_change(key, doc_id, &hash, signature)
                    .map_err(|_| refuse("its signature is not its author device's"))?;
            }
            Proof::Server(signature) => {
                let key = self.server.as_deref().unwrap_or_default();
                verify_attestation(key, doc_id, &hash, signature)
                    .map_err(|_| refuse("the server's attestation does not match it"))?;
            }
        }
        Ok(change)
    }

    /// The keys this check learned, to keep: (actor, key) pairs and the server's key.
    pub fn learned(&self) -> (&[ActorKey], Option<&[u8]>) {
        (
            &self.fresh,
            if self.fresh_server {
                self.server.as_deref()
            } else {
                None
            },
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::identity::{DeviceIdentity, ServerKey};
    use automerge::transaction::Transactable;

    fn change_of(device: &DeviceIdentity) -> Vec<u8> {
        let mut doc = automerge::AutoCommit::new().with_actor(device.actor.clone());
        doc.put(automerge::ROOT, "k", 1).unwrap();
        doc.commit();
        doc.get_changes(&[])[0].raw_bytes().to_vec()
    }

    #[test]
    fn a_change_passes_with_its_authors_signature_or_the_servers_attestation_only() {
        let author = DeviceIdentity::generate();
        let other = DeviceIdentity::generate();
        let server = ServerKey::generate();
        let bytes = change_of(&author);
        let hash = crate::doc::change_from_bytes(bytes.clone()).unwrap().hash();
        let mut ring = Keyring::default();
        ring.admit(
            &[AuthorKey {
                actor: author.actor.to_bytes().to_vec(),
                public_key: author.public_key().to_vec(),
            }],
            &server.public_key(),
        )
        .unwrap();
        let signed = Proof::Device(author.sign_change("d", &hash).to_vec());
        assert!(ring.check("d", &bytes, &signed).is_ok());
        // Another record, another device's signature, altered bytes, a forged attestation.
        assert!(ring.check("e", &bytes, &signed).is_err());
        let by_other = Proof::Device(other.sign_change("d", &hash).to_vec());
        assert!(ring.check("d", &bytes, &by_other).is_err());
        let mut altered = bytes.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert!(ring.check("d", &altered, &signed).is_err());
        let attested = Proof::Server(server.attest("d", &hash).to_vec());
        assert!(ring.check("d", &bytes, &attested).is_ok());
        let forged = Proof::Server(ServerKey::generate().attest("d", &hash).to_vec());
        assert!(ring.check("d", &bytes, &forged).is_err());
        // A device signature is no attestation, nor the other way round.
        let swapped = Proof::Server(author.sign_change("d", &hash).to_vec());
        assert!(ring.check("d", &bytes, &swapped).is_err());
        // A change of an actor the response names no key for.
        let stranger = change_of(&other);
        let hash = crate::doc::change_from_bytes(stranger.clone())
            .unwrap()
            .hash();
        let proof = Proof::Device(other.sign_change("d", &hash).to_vec());
        assert!(ring.check("d", &stranger, &proof).is_err());
    }

    #[test]
    fn kept_keys_cannot_be_replaced() {
        let author = DeviceIdentity::generate();
        let server = ServerKey::generate();
        let key = |d: &DeviceIdentity| AuthorKey {
            actor: author.actor.to_bytes().to_vec(),
            public_key: d.public_key().to_vec(),
        };
        let mut ring = Keyring::default();
        ring.admit(&[key(&author)], &server.public_key()).unwrap();
        let (fresh, server_key) = ring.learned();
        assert_eq!(fresh.len(), 1);
        assert_eq!(server_key, Some(server.public_key().as_slice()));

        let mut kept = Keyring::new(
            HashMap::from([(
                author.actor.to_bytes().to_vec(),
                author.public_key().to_vec(),
            )]),
            Some(server.public_key().to_vec()),
        );
        kept.admit(&[key(&author)], &server.public_key()).unwrap();
        assert_eq!(kept.learned(), (&[][..], None));
        let impostor = DeviceIdentity::generate();
        assert!(matches!(
            kept.admit(&[key(&impostor)], &server.public_key()),
            Err(Unverified::AuthorKeyChanged { .. })
        ));
        assert!(matches!(
            kept.admit(&[], &ServerKey::generate().public_key()),
            Err(Unverified::ServerKeyChanged { .. })
        ));
    }
}
