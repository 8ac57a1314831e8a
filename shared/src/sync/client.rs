//! The sync client: push the outbox, pull every readable scope, repair what is still missing.
//! See the [module docs](super) for the guarantees.

use std::time::Duration;

use automerge::sync::{Message, State, SyncDoc};
use serde::Serialize;

use super::protocol::{
    self, DocHeads, ErrorBody, HeadsRequest, HeadsResponse, LoginRequest, LoginResponse,
    PullRequest, PushItem, PushRequest, RepairMessage, RepairRequest, RepairResponse, ScopeCursor,
    UnreadableRequest, UnreadableResponse,
};
use crate::store::{IncomingChange, Store};

/// Tuning of a sync; the defaults suit a 2G link.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub push_items: usize,
    pub push_bytes: usize,
    pub pull_bytes: u32,
    /// Attempts per request before giving up (network errors, 5xx, 429).
    pub attempts: u32,
    /// First back-off; doubled per attempt, capped at 30 s.
    pub backoff: Duration,
    /// Largest response body accepted, decompressed.
    pub max_response_bytes: usize,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            // About 1,000 records per push and pull: two round trips for a typical backlog.
            // Bounds are on raw bytes; the wire carries them brotli-compressed (~10x smaller).
            push_items: 2_000,
            push_bytes: 2 * 1024 * 1024,
            pull_bytes: 4 * 1024 * 1024,
            attempts: 6,
            backoff: Duration::from_millis(500),
            max_response_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Progress of a sync, for the shell to show.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum SyncEvent {
    Pushing {
        sent: usize,
        total: usize,
        bytes: usize,
    },
    Pulling {
        received: usize,
        bytes: usize,
        more: bool,
    },
    Repairing {
        records: usize,
    },
    Retrying {
        attempt: u32,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        wait_ms: u64,
        error: String,
    },
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncReport {
    pub pushed: usize,
    pub rejected: usize,
    pub pulled: usize,
    pub repaired: usize,
    /// Records deleted because the account may no longer read them (a team it left, an
    /// assignment that ended, a colleague's attendance).
    pub forgotten: usize,
    pub requests: usize,
    pub bytes_sent: usize,
    pub bytes_received: usize,
    /// This device's clock minus the server's (ms), as the server measured it during this
    /// sync; also kept in the store ([`Store::clock_offset`]) for the app's clock warning.
    /// `None` from a server that does not measure it.
    pub device_clock_offset_ms: Option<i64>,
}

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No answer: no signal, a cut connection, a timeout. Worth retrying.
    #[error("network: {0}")]
    Network(String),
    /// The server answered with an error.
    #[error("server said {status} {}: {}", .body.code, .body.message)]
    Status { status: u16, body: ErrorBody },
    /// The answer could not be decoded.
    #[error("bad response: {0}")]
    Protocol(String),
    /// The server's TLS certificate is not one this device trusts: a wrong address, a server
    /// with a new certificate, or someone in between. Retrying cannot help.
    #[error(
        "服务器证书不受信任,请核对服务器地址或联系管理员 (the server's certificate is not trusted): {0}"
    )]
    Untrusted(String),
}

impl TransportError {
    fn retryable(&self) -> bool {
        match self {
            TransportError::Network(_) => true,
            TransportError::Status { status, .. } => *status >= 500 || *status == 429,
            TransportError::Protocol(_) | TransportError::Untrusted(_) => false,
        }
    }

    /// A failed request, with every cause: reqwest's own message ("error sending request")
    /// leaves out the one that matters, such as rustls' "invalid peer certificate".
    fn from_reqwest(e: &reqwest::Error) -> TransportError {
        let mut message = e.to_string();
        let mut untrusted = false;
        let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
        while let Some(c) = cause {
            message.push_str(": ");
            message.push_str(&c.to_string());
            // rustls' error sits inside an io::Error, which does not give it as its source.
            let inner = c
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .map(|i| i as &(dyn std::error::Error + 'static));
            for candidate in [Some(c), inner].into_iter().flatten() {
                untrusted |= matches!(
                    candidate.downcast_ref::<rustls::Error>(),
                    Some(rustls::Error::InvalidCertificate(_))
                );
            }
            cause = c.source();
        }
        // Some connectors wrap rustls' error in a type of their own: its text is
        // rustls' `InvalidCertificate` display, which is stable.
        untrusted |= message.contains("invalid peer certificate");
        if untrusted {
            TransportError::Untrusted(message)
        } else {
            TransportError::Network(message)
        }
    }
}

/// Why a sync stopped. Nothing is lost either way: what was not acknowledged stays queued.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The token expired or was revoked: sign in again.
    #[error("sign in again: {0}")]
    Unauthorized(String),
    /// The request failed after every retry.
    #[error("sync failed after {attempts} attempts: {last}")]
    GaveUp { attempts: u32, last: TransportError },
    /// The server's storage is full (507 `server_full`): nothing was lost, the records stay
    /// in the outbox; sync again later. Not retried at once: a full disk rarely frees itself
    /// within seconds.
    #[error("the server's storage is full; records stay on this phone: {0}")]
    ServerFull(String),
    /// This phone was cut off on the server (403 `device_revoked`: reported lost or
    /// stolen): it cannot sign in or sync again; the cadre carries on on a new phone.
    #[error("this phone was cut off: {0}")]
    DeviceRevoked(String),
    /// The server no longer speaks this app's sync protocol (426 `update_required`): the app
    /// must be updated; its records stay in the outbox. Retrying cannot help.
    #[error("update the app to sync: {0}")]
    UpdateRequired(String),
    /// A pulled or repaired change did not prove its author (`sync::proof`): nothing of the
    /// response was applied. The server's data was altered, or it is not the server this
    /// phone synced with before; syncing again cannot help until the county mends it.
    #[error("the server sent a change that does not prove its author: {0}")]
    Unverified(String),
    #[error("sync refused: {0}")]
    Refused(TransportError),
    #[error(transparent)]
    Store(#[from] crate::Error),
}

impl SyncError {
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::Unauthorized(_) => "unauthorized",
            SyncError::GaveUp { .. } => "network",
            SyncError::ServerFull(_) => "server_full",
            SyncError::UpdateRequired(_) => "update_required",
            SyncError::DeviceRevoked(_) => "device_revoked",
            SyncError::Unverified(_) => "unverified_change",
            SyncError::Refused(TransportError::Untrusted(_)) => "untrusted_server",
            SyncError::Refused(_) => "refused",
            SyncError::Store(e) => e.code(),
        }
    }
}

/// How requests reach the server. [`HttpTransport`] is the real one; tests may wrap it.
pub trait Transport {
    fn push(&mut self, body: Vec<u8>) -> Result<Vec<u8>, TransportError>;
    fn pull(&mut self, body: Vec<u8>) -> Result<Vec<u8>, TransportError>;
    fn repair(&mut self, body: Vec<u8>) -> Result<Vec<u8>, TransportError>;
    fn heads(&mut self, body: Vec<u8>) -> Result<Vec<u8>, TransportError>;
    fn unreadable(&mut self, body: Vec<u8>) -> Result<Vec<u8>, TransportError>;
    /// The protocol version the bodies are in: this build's, but for a phone of an earlier
    /// release played by a test.
    fn protocol(&self) -> u32 {
        protocol::PROTOCOL_VERSION
    }
}

/// HTTP(S) to a sync server, with a bearer token.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    base: String,
    token: String,
    client: reqwest::blocking::Client,
    /// Added to the system clock in [`protocol::DEVICE_TIME_HEADER`]; zero but in tests.
    clock_skew: chrono::Duration,
    /// The protocol version sent in [`protocol::PROTOCOL_HEADER`]: this build's, but in tests
    /// of phones older or newer than the server.
    protocol_version: u32,
}

impl HttpTransport {
    pub fn new(base_url: &str, token: &str) -> HttpTransport {
        HttpTransport {
            base: base_url.trim_end_matches('/').to_string(),
            token: token.into(),
            client: Self::client(None).unwrap_or_default(),
            clock_skew: chrono::Duration::zero(),
            protocol_version: protocol::PROTOCOL_VERSION,
        }
    }

    /// Pretends the device's clock is off by `skew` (tests of clock drift).
    pub fn with_clock_skew(mut self, skew: chrono::Duration) -> HttpTransport {
        self.clock_skew = skew;
        self
    }

    /// Speaks protocol `version` instead of this build's: how a test plays a phone of another
    /// release. The sync client writes and reads the bodies of the versions it knows (1 and
    /// this build's); for any other only the header changes.
    pub fn speaking(mut self, version: u32) -> HttpTransport {
        self.protocol_version = version;
        self
    }

    /// Also trusts the certificate in `pem` (PEM), for a server with a certificate of its
    /// own (self-signed, or from a provincial CA the phone does not know).
    pub fn trusting(mut self, pem: &[u8]) -> Result<HttpTransport, TransportError> {
        let cert = reqwest::Certificate::from_pem(pem)
            .map_err(|e| TransportError::Protocol(format!("not a PEM certificate: {e}")))?;
        self.client = Self::client(Some(cert)).map_err(|e| TransportError::from_reqwest(&e))?;
        Ok(self)
    }

    fn client(
        root: Option<reqwest::Certificate>,
    ) -> Result<reqwest::blocking::Client, reqwest::Error> {
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(20))
            .timeout(Duration::from_secs(120))
            // The server closes a kept-alive connection idle for its header timeout (20 s by
            // default); a request sent on one just as it closes fails. Let idle ones go first.
            .pool_idle_timeout(Duration::from_secs(10));
        if let Some(cert) = root {
            builder = builder.add_root_certificate(cert);
        }
        builder.build()
    }

    /// Signs in and registers this device (its actor and public key) with the server.
    pub fn login(
        &self,
        login: &str,
        password: &str,
        store: &Store,
    ) -> Result<LoginResponse, TransportError> {
        let device = store.device();
        let req = LoginRequest {
            login: login.into(),
            password: password.into(),
            device_id: device.device_id.clone(),
            actor: device.actor.to_hex_string(),
            public_key: hex::encode(device.public_key()),
        };
        let resp = self
            .client
            .post(format!("{}/v1/login", self.base))
            .json(&req)
            .send()
            .map_err(|e| TransportError::from_reqwest(&e))?;
        let bytes = read_response(resp)?;
        serde_json::from_slice(&bytes).map_err(|e| TransportError::Protocol(e.to_string()))
    }

    /// The county's ⚙ settings for this device's account (`GET /v1/settings`).
    pub fn county_settings(&self) -> Result<crate::rules::EffectiveSettings, TransportError> {
        let resp = self
            .client
            .get(format!("{}/v1/settings", self.base))
            .bearer_auth(&self.token)
            .send()
            .map_err(|e| TransportError::from_reqwest(&e))?;
        let bytes = read_response(resp)?;
        serde_json::from_slice(&bytes).map_err(|e| TransportError::Protocol(e.to_string()))
    }

    fn post(&self, path: &str, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, protocol::CONTENT_TYPE)
            .header(protocol::PROTOCOL_HEADER, self.protocol_version.to_string())
            .header(
                protocol::DEVICE_TIME_HEADER,
                (crate::store::now() + self.clock_skew).to_rfc3339(),
            )
            .body(body)
            .send()
            .map_err(|e| TransportError::from_reqwest(&e))?;
        read_response(resp)
    }
}

fn read_response(resp: reqwest::blocking::Response) -> Result<Vec<u8>, TransportError> {
    let status = resp.status().as_u16();
    let bytes = resp.bytes().map_err(|e| TransportError::from_reqwest(&e))?;
    if (200..300).contains(&status) {
        return Ok(bytes.to_vec());
    }
    let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| ErrorBody {
        code: format!("http_{status}"),
        message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
        message_en: String::new(),
    });
    Err(TransportError::Status { status, body })
}

impl Transport for HttpTransport {
    fn push(&mut self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        self.post("/v1/sync/push", body)
    }

    fn pull(&mut self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        self.post("/v1/sync/pull", body)
    }

    fn repair(&mut self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        self.post("/v1/sync/repair", body)
    }

    fn heads(&mut self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        self.post("/v1/sync/heads", body)
    }

    fn unreadable(&mut self, body: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        self.post("/v1/sync/unreadable", body)
    }

    fn protocol(&self) -> u32 {
        self.protocol_version
    }
}

/// Signs in and registers this device (its actor and public key) with the server.
pub fn login(
    base_url: &str,
    login: &str,
    password: &str,
    store: &Store,
) -> Result<LoginResponse, TransportError> {
    HttpTransport::new(base_url, "").login(login, password, store)
}

/// One of the [`Transport`] calls.
type SendFn = fn(&mut dyn Transport, Vec<u8>) -> Result<Vec<u8>, TransportError>;

struct Session<'a> {
    transport: &'a mut dyn Transport,
    options: &'a SyncOptions,
    on_event: &'a mut dyn FnMut(SyncEvent),
    report: SyncReport,
}

impl Session<'_> {
    /// Sends one request, retrying with exponential back-off on what is worth retrying.
    fn call<Req: Serialize, Resp: protocol::Response>(
        &mut self,
        send: SendFn,
        request: &Req,
    ) -> Result<Resp, SyncError> {
        let body = protocol::encode(request);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.report.requests += 1;
            match send(self.transport, body.clone()) {
                Ok(bytes) => {
                    self.report.bytes_sent += body.len();
                    self.report.bytes_received += bytes.len();
                    return Resp::decode_response(&bytes, self.options.max_response_bytes)
                        .map_err(|e| SyncError::Refused(TransportError::Protocol(e.to_string())));
                }
                Err(TransportError::Status { status: 401, body }) => {
                    return Err(SyncError::Unauthorized(body.message));
                }
                Err(TransportError::Status { status: 507, body }) => {
                    return Err(SyncError::ServerFull(body.message));
                }
                Err(TransportError::Status { status: 426, body }) => {
                    return Err(SyncError::UpdateRequired(body.message));
                }
                Err(TransportError::Status { status: 403, body })
                    if body.code == "device_revoked" =>
                {
                    return Err(SyncError::DeviceRevoked(body.message));
                }
                Err(e) if e.retryable() && attempt < self.options.attempts => {
                    let wait = self
                        .options
                        .backoff
                        .saturating_mul(1 << (attempt - 1).min(10));
                    let wait = wait.min(Duration::from_secs(30));
                    (self.on_event)(SyncEvent::Retrying {
                        attempt,
                        wait_ms: wait.as_millis() as u64,
                        error: e.to_string(),
                    });
                    std::thread::sleep(wait);
                }
                Err(e) if e.retryable() => {
                    return Err(SyncError::GaveUp {
                        attempts: attempt,
                        last: e,
                    });
                }
                Err(e) => return Err(SyncError::Refused(e)),
            }
        }
    }
}

/// Pushes the outbox, pulls every readable scope and repairs records still missing changes.
pub fn sync_now(
    store: &mut Store,
    transport: &mut dyn Transport,
    options: &SyncOptions,
    on_event: &mut dyn FnMut(SyncEvent),
) -> Result<SyncReport, SyncError> {
    let mut s = Session {
        transport,
        options,
        on_event,
        report: SyncReport::default(),
    };
    push(store, &mut s)?;
    let pulled = pull(store, &mut s)?;
    let stuck = store.records_with_held_changes()?;
    if !stuck.is_empty() {
        repair(store, &mut s, &stuck)?;
    }
    if pulled.server_lost_changes {
        recover(store, &mut s)?;
    }
    if !pulled.retired.is_empty() {
        forget(store, &mut s, &pulled.retired)?;
    }
    // Edits set aside when the server rebuilt a record's history go out again, now on the
    // new history (`crate::store`, rebuilt records).
    if store.carry_rebuilt_edits()? > 0 {
        push(store, &mut s)?;
    }
    Ok(s.report)
}

/// After a pull named scopes the account no longer reads: asks which of the device's records
/// (those with nothing left to push) it may no longer read, deletes them, then drops the
/// retired cursors. Until that has all gone through, the next pull names them again.
fn forget(store: &mut Store, s: &mut Session<'_>, retired: &[String]) -> Result<(), SyncError> {
    let ids = store.settled_record_ids()?;
    let mut gone = Vec::new();
    for chunk in ids.chunks(1000) {
        let request = UnreadableRequest {
            docs: chunk.to_vec(),
        };
        let response: UnreadableResponse = s.call(|t, b| t.unreadable(b), &request)?;
        // Only what was asked about: a server naming other ids deletes nothing else.
        gone.extend(response.docs.into_iter().filter(|d| chunk.contains(d)));
    }
    s.report.forgotten += store.forget_records(&gone)?;
    for scope in retired {
        store.remove_cursor(scope)?;
    }
    Ok(())
}

/// After the server lost changes (restored from a backup): find the records whose heads
/// differ, fetch what the server has that the device lacks (repair), and queue again this
/// device's own changes that the server lacks, then push them. Other devices' changes the
/// server lost come back when those devices sync.
fn recover(store: &mut Store, s: &mut Session<'_>) -> Result<(), SyncError> {
    let ids = store.record_ids()?;
    let mut differ = Vec::new();
    for chunk in ids.chunks(1000) {
        let mut docs = Vec::with_capacity(chunk.len());
        for id in chunk {
            let heads = store.heads(id)?.iter().map(|h| h.0.to_vec()).collect();
            docs.push(DocHeads {
                doc_id: id.clone(),
                heads,
            });
        }
        let response: HeadsResponse = s.call(|t, b| t.heads(b), &HeadsRequest { docs })?;
        differ.extend(response.differ);
    }
    if differ.is_empty() {
        return Ok(());
    }
    let known: Vec<String> = differ
        .iter()
        .filter(|d| !d.heads.is_empty())
        .map(|d| d.doc_id.clone())
        .collect();
    if !known.is_empty() {
        repair(store, s, &known)?;
    }
    for d in &differ {
        let server_heads: Vec<automerge::ChangeHash> = d
            .heads
            .iter()
            .filter_map(|h| <[u8; 32]>::try_from(h.as_slice()).ok())
            .map(automerge::ChangeHash)
            .collect();
        store.requeue_own_changes(&d.doc_id, &server_heads)?;
    }
    push(store, s)
}

fn push(store: &mut Store, s: &mut Session<'_>) -> Result<(), SyncError> {
    let total = store.outbox_len()?;
    let mut sent = 0;
    // Each entry goes once per sync: one the server could not take yet stays for the next.
    let mut after = 0;
    loop {
        let batch = store.outbox_batch_after(after, s.options.push_items, s.options.push_bytes)?;
        let Some(last) = batch.last().map(|i| i.seq) else {
            return Ok(());
        };
        after = last;
        let response: protocol::PushResponse = if s.transport.protocol() == 1 {
            let items: Vec<protocol::v1::PushItem> = batch
                .iter()
                .map(|i| protocol::v1::PushItem {
                    doc_id: i.doc_id.clone(),
                    change: i.change.clone(),
                })
                .collect();
            let manifest = protocol::v1::push_manifest(&store.device().device_id, &items);
            let request = protocol::v1::PushRequest {
                signature: store.device().sign_message(&manifest).to_vec(),
                items,
            };
            s.call(|t, b| t.push(b), &request)?
        } else {
            let request = PushRequest {
                items: batch
                    .iter()
                    .map(|i| PushItem {
                        doc_id: i.doc_id.clone(),
                        change: i.change.clone(),
                        signature: i.signature.clone(),
                    })
                    .collect(),
            };
            s.call(|t, b| t.push(b), &request)?
        };
        note_clock_offset(store, s, response.device_clock_offset_ms)?;
        if response.results.len() != batch.len() {
            return Err(SyncError::Refused(TransportError::Protocol(format!(
                "{} results for {} changes",
                response.results.len(),
                batch.len()
            ))));
        }
        let settled = store.settle_push(&batch, &response.results)?;
        sent += settled;
        s.report.pushed += response
            .results
            .iter()
            .filter(|r| !matches!(r.outcome, protocol::PushOutcome::Rejected { .. }))
            .count();
        s.report.rejected += response
            .results
            .iter()
            .filter(|r| {
                matches!(r.outcome, protocol::PushOutcome::Rejected { .. })
                    && r.outcome.is_settled()
            })
            .count();
        let bytes = s.report.bytes_sent;
        (s.on_event)(SyncEvent::Pushing { sent, total, bytes });
    }
}

/// Keeps the server's latest measure of this device's clock, in the report and (when it moved
/// by a second or more, so that a sync writes it about once) in the store.
fn note_clock_offset(
    store: &mut Store,
    s: &mut Session<'_>,
    offset_ms: Option<i64>,
) -> Result<(), SyncError> {
    let Some(offset_ms) = offset_ms else {
        return Ok(());
    };
    let moved = s
        .report
        .device_clock_offset_ms
        .is_none_or(|last| (last - offset_ms).abs() >= 1000);
    s.report.device_clock_offset_ms = Some(offset_ms);
    if moved {
        store.set_clock_offset(offset_ms)?;
    }
    Ok(())
}

/// What a pull found besides the changes it applied.
struct Pulled {
    /// A device cursor was above the server's sequence (see [`recover`]); those cursors were
    /// moved back.
    server_lost_changes: bool,
    /// Scopes of the device's cursors that the account no longer reads (see [`forget`]).
    retired: Vec<String>,
}

/// Pulls until the server has nothing more.
fn pull(store: &mut Store, s: &mut Session<'_>) -> Result<Pulled, SyncError> {
    let mut lost = false;
    let mut retired: Vec<String> = Vec::new();
    loop {
        let request = PullRequest {
            cursors: store.cursors()?,
            max_bytes: s.options.pull_bytes,
        };
        let response = pull_once(store, s, &request)?;
        note_clock_offset(store, s, response.device_clock_offset_ms)?;
        for scope in &response.retired {
            // Only a scope the device named.
            if !retired.contains(scope) && request.cursors.iter().any(|c| &c.scope == scope) {
                retired.push(scope.clone());
            }
        }
        let behind: Vec<&ScopeCursor> = request
            .cursors
            .iter()
            .filter(|c| c.cursor > response.server_seq)
            .collect();
        if !behind.is_empty() {
            // The server numbers changes anew after a restore: move those cursors back to its
            // sequence and ask again (changes seen twice are duplicates, nothing more).
            lost = true;
            for c in behind {
                store.set_cursor(&c.scope, response.server_seq)?;
            }
            continue;
        }
        for page in response.pages {
            s.report.pulled += page.changes.len();
            store.apply_page(&page.changes, &page.scope, page.cursor)?;
        }
        let (received, bytes) = (s.report.pulled, s.report.bytes_received);
        (s.on_event)(SyncEvent::Pulling {
            received,
            bytes,
            more: response.more,
        });
        if !response.more {
            return Ok(Pulled {
                server_lost_changes: lost,
                retired,
            });
        }
    }
}

/// A pull answer whose changes proved their authors, ready to apply.
struct CheckedPull {
    pages: Vec<CheckedPage>,
    more: bool,
    server_seq: i64,
    device_clock_offset_ms: Option<i64>,
    retired: Vec<String>,
}

struct CheckedPage {
    scope: String,
    changes: Vec<IncomingChange>,
    cursor: i64,
}

/// One pull request. In protocol 2 every change of the answer is checked against its proof
/// before anything of it is applied ([`super::proof`]), and the keys it taught are kept; a
/// phone of protocol 1 (played by a test) takes the answer as that release did.
fn pull_once(
    store: &mut Store,
    s: &mut Session<'_>,
    request: &PullRequest,
) -> Result<CheckedPull, SyncError> {
    if s.transport.protocol() == 1 {
        let r: protocol::v1::PullResponse = s.call(|t, b| t.pull(b), request)?;
        return Ok(CheckedPull {
            pages: r
                .pages
                .into_iter()
                .map(|p| CheckedPage {
                    scope: p.scope,
                    changes: p
                        .changes
                        .into_iter()
                        .map(|c| IncomingChange {
                            doc_id: c.doc_id,
                            bytes: c.change,
                        })
                        .collect(),
                    cursor: p.cursor,
                })
                .collect(),
            more: r.more,
            server_seq: r.server_seq,
            device_clock_offset_ms: r.device_clock_offset_ms,
            retired: r.retired,
        });
    }
    let r: protocol::PullResponse = s.call(|t, b| t.pull(b), request)?;
    let mut ring = store.keyring()?;
    ring.admit(&r.keys, &r.server_key).map_err(unverified)?;
    let mut pages = Vec::with_capacity(r.pages.len());
    for p in r.pages {
        let mut changes = Vec::with_capacity(p.changes.len());
        for c in p.changes {
            ring.check(&c.doc_id, &c.change, &c.proof)
                .map_err(unverified)?;
            changes.push(IncomingChange {
                doc_id: c.doc_id,
                bytes: c.change,
            });
        }
        pages.push(CheckedPage {
            scope: p.scope,
            changes,
            cursor: p.cursor,
        });
    }
    store.keep_keys(&ring)?;
    Ok(CheckedPull {
        pages,
        more: r.more,
        server_seq: r.server_seq,
        device_clock_offset_ms: r.device_clock_offset_ms,
        retired: r.retired,
    })
}

fn unverified(e: super::proof::Unverified) -> SyncError {
    SyncError::Unverified(e.to_string())
}

/// Runs Automerge's sync protocol for `doc_ids` until neither side has anything to send.
fn repair(store: &mut Store, s: &mut Session<'_>, doc_ids: &[String]) -> Result<(), SyncError> {
    (s.on_event)(SyncEvent::Repairing {
        records: doc_ids.len(),
    });
    let mut states: Vec<(String, State)> = doc_ids
        .iter()
        .map(|id| (id.clone(), State::new()))
        .collect();
    for _round in 0..16 {
        let mut docs = Vec::new();
        for (id, state) in states.iter_mut() {
            let mut doc = store.document_for_repair(id)?;
            let message = doc.sync().generate_sync_message(state).map(Message::encode);
            docs.push(RepairMessage {
                doc_id: id.clone(),
                message,
            });
        }
        if docs.iter().all(|d| d.message.is_none()) {
            break;
        }
        let (response, ring) = if s.transport.protocol() == 1 {
            let r: protocol::v1::RepairResponse =
                s.call(|t, b| t.repair(b), &RepairRequest { docs })?;
            (
                RepairResponse {
                    docs: r.docs,
                    proofs: Vec::new(),
                    keys: Vec::new(),
                    server_key: Vec::new(),
                },
                None,
            )
        } else {
            let r: RepairResponse = s.call(|t, b| t.repair(b), &RepairRequest { docs })?;
            let mut ring = store.keyring()?;
            ring.admit(&r.keys, &r.server_key).map_err(unverified)?;
            (r, Some(ring))
        };
        let mut any = false;
        for reply in response.docs {
            let Some(bytes) = reply.message else { continue };
            let Some((_, state)) = states.iter_mut().find(|(id, _)| *id == reply.doc_id) else {
                continue;
            };
            let Ok(message) = protocol::decode_sync_message(&bytes) else {
                continue;
            };
            any = true;
            let mut doc = store.document_for_repair(&reply.doc_id)?;
            let before = doc.get_heads();
            doc.sync()
                .receive_sync_message(state, message)
                .map_err(crate::Error::from)?;
            let fresh: Vec<IncomingChange> = doc
                .get_changes(&before)
                .into_iter()
                .map(|c| IncomingChange {
                    doc_id: reply.doc_id.clone(),
                    bytes: c.raw_bytes().to_vec(),
                })
                .collect();
            if let Some(ring) = &ring {
                for c in &fresh {
                    let hash = automerge::Change::from_bytes(c.bytes.clone())
                        .map(|ch| ch.hash().0.to_vec())
                        .unwrap_or_default();
                    let proof = response
                        .proofs
                        .iter()
                        .find(|p| p.hash == hash)
                        .map(|p| &p.proof)
                        .ok_or_else(|| {
                            SyncError::Unverified(format!(
                                "record {}: a repaired change came without its proof",
                                c.doc_id
                            ))
                        })?;
                    ring.check(&c.doc_id, &c.bytes, proof).map_err(unverified)?;
                }
            }
            if !fresh.is_empty() {
                s.report.repaired += fresh.len();
                store.apply_changes(&fresh)?;
            }
        }
        if let Some(ring) = &ring {
            store.keep_keys(ring)?;
        }
        if !any {
            break;
        }
    }
    Ok(())
}
