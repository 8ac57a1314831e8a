//! The field app's errors: a stable code for the UI to branch on and a message a person can
//! act on, Chinese first.

use crate::error::Error;
use crate::sync::client;

/// An error of the field app: a stable code and a message a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum FieldError {
    #[error("请先登录 / sign in first")]
    NotSignedIn,
    #[error("{message}")]
    Input { code: &'static str, message: String },
    #[error(
        "无法连接服务器,记录已保存在本机,有网络时再同步 / cannot reach the server, records are kept on this phone: {0}"
    )]
    Network(String),
    #[error("服务器拒绝: {0}")]
    Server(String),
    #[error(
        "服务器存储已满,记录仍保存在本机,请稍后再同步并告知管理员 / the server's storage is full; records stay on this phone, sync later: {0}"
    )]
    ServerFull(String),
    #[error(
        "服务器证书不受信任,未发送任何数据,请核对服务器地址或联系管理员 / the server's certificate is not trusted; nothing was sent: {0}"
    )]
    UntrustedServer(String),
    #[error("登录已过期,请重新登录 / sign in again: {0}")]
    Unauthorized(String),
    /// This phone was cut off on the server (reported lost); the server's message says what
    /// to do.
    #[error("{0} / this phone was cut off: sign in on a new phone")]
    DeviceRevoked(String),
    /// The server no longer speaks this app's sync protocol; the server's message says so.
    #[error("{0} / update the app, then sync again; records stay on this phone")]
    UpdateRequired(String),
    /// The server sent a change that does not prove its author (`sync::proof`): nothing of it
    /// was taken.
    #[error(
        "服务器发来的记录无法证明出自其作者,已拒收,本机记录未受影响;请联系县级管理员核查服务器 / the server sent a change that does not prove its author; nothing of it was taken: {0}"
    )]
    Unverified(String),
    #[error(transparent)]
    Core(#[from] Error),
}

impl FieldError {
    /// A stable code for the UI to branch on.
    pub fn code(&self) -> &str {
        match self {
            FieldError::NotSignedIn => "not_signed_in",
            FieldError::Input { code, .. } => code,
            FieldError::Network(_) => "network",
            FieldError::Server(_) => "refused",
            FieldError::ServerFull(_) => "server_full",
            FieldError::UntrustedServer(_) => "untrusted_server",
            FieldError::Unauthorized(_) => "unauthorized",
            FieldError::UpdateRequired(_) => "update_required",
            FieldError::DeviceRevoked(_) => "device_revoked",
            FieldError::Unverified(_) => "unverified_change",
            FieldError::Core(e) => e.code(),
        }
    }

    pub(super) fn input(code: &'static str, message: impl Into<String>) -> Self {
        FieldError::Input {
            code,
            message: message.into(),
        }
    }
}

impl From<rusqlite::Error> for FieldError {
    fn from(e: rusqlite::Error) -> Self {
        FieldError::Core(Error::from(e))
    }
}

impl From<client::SyncError> for FieldError {
    fn from(e: client::SyncError) -> Self {
        match e {
            client::SyncError::Unauthorized(m) => FieldError::Unauthorized(m),
            client::SyncError::GaveUp { last, .. } => FieldError::Network(last.to_string()),
            client::SyncError::ServerFull(m) => FieldError::ServerFull(m),
            client::SyncError::UpdateRequired(m) => FieldError::UpdateRequired(m),
            client::SyncError::DeviceRevoked(m) => FieldError::DeviceRevoked(m),
            client::SyncError::Unverified(m) => FieldError::Unverified(m),
            client::SyncError::Refused(client::TransportError::Untrusted(m)) => {
                FieldError::UntrustedServer(m)
            }
            client::SyncError::Refused(t) => FieldError::Server(t.to_string()),
            client::SyncError::Store(e) => FieldError::Core(e),
        }
    }
}

impl From<client::TransportError> for FieldError {
    fn from(e: client::TransportError) -> Self {
        match e {
            client::TransportError::Network(m) => FieldError::Network(m),
            client::TransportError::Status { status: 401, body } => {
                FieldError::input("bad_login", format!("账号或密码不对 / {}", body.message))
            }
            client::TransportError::Status { status: 403, body }
                if body.code == "device_revoked" =>
            {
                FieldError::DeviceRevoked(body.message)
            }
            other => FieldError::Server(other.to_string()),
        }
    }
}

pub type FieldResult<T> = std::result::Result<T, FieldError>;
