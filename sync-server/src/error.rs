//! The server's one API error: a stable code, a message in Chinese and English, the right
//! status. Internal detail is logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cunji_core::sync::protocol::ErrorBody;

use crate::reports::ReportError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or malformed bearer token")]
    MissingToken,
    #[error("token unknown, expired or revoked")]
    BadToken,
    #[error("wrong login or password")]
    BadLogin,
    #[error("device already registered to another account or actor")]
    DeviceConflict,
    #[error("malformed body: {0}")]
    Malformed(String),
    #[error("body too large")]
    TooLarge,
    #[error("batch too large: {0} items")]
    BatchTooLarge(usize),
    #[error("rate limited for {0} s")]
    RateLimited(u64),
    #[error("sign-in locked for {0} s after failures")]
    SignInThrottled(u64),
    #[error("no such route")]
    UnknownRoute,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body was not sent as the endpoint's content type (`application/json`, or the sync
    /// protocol's).
    #[error("content type is not {0}")]
    WrongContentType(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("unknown report: {0}")]
    UnknownReport(String),
    #[error("unknown parameter: {0}")]
    UnknownParam(String),
    #[error("bad parameter {name}: {message}")]
    BadParam { name: String, message: String },
    #[error("out of scope: {0}")]
    OutOfScope(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid settings: {}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    InvalidSettings(Vec<cunji_core::rules::SettingsProblem>),
    #[error("a browser session cannot sync")]
    DeviceRequired,
    #[error("device {0} was cut off")]
    DeviceRevoked(String),
    #[error("the browser session has no signing key")]
    SigningKeyRequired,
    /// A step the checks refused (`crate::approvals`): the rule's code and its message.
    #[error("refused {code}: {message_en}")]
    Refused {
        code: &'static str,
        message: String,
        message_en: String,
    },
    #[error("sync protocol {0} is older than the server speaks")]
    UpdateRequired(u32),
    #[error("sync protocol {0} is newer than the server speaks")]
    ProtocolTooNew(u32),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn parts(&self) -> (StatusCode, &'static str, String, String) {
        use ApiError::*;
        match self {
            MissingToken => (
                StatusCode::UNAUTHORIZED,
                "missing_token",
                "请先登录".into(),
                "Sign in first.".into(),
            ),
            BadToken => (
                StatusCode::UNAUTHORIZED,
                "bad_token",
                "登录已过期或已被注销,请重新登录".into(),
                "Your sign-in expired or was revoked; sign in again.".into(),
            ),
            BadLogin => (
                StatusCode::UNAUTHORIZED,
                "bad_login",
                "账号或密码不正确".into(),
                "Wrong login or password.".into(),
            ),
            DeviceConflict => (
                StatusCode::CONFLICT,
                "device_conflict",
                "该设备已登记给其他账号,请联系管理员".into(),
                "This device is registered to another account; ask an administrator.".into(),
            ),
            Malformed(d) => (
                StatusCode::BAD_REQUEST,
                "malformed",
                format!("请求格式不正确:{d}"),
                format!("The request is malformed: {d}"),
            ),
            TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "请求过大,请分批同步".into(),
                "The request is too large; sync in smaller batches.".into(),
            ),
            BatchTooLarge(n) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "batch_too_large",
                format!("一次提交了{n}条,超过上限"),
                format!("{n} items in one batch is over the limit."),
            ),
            RateLimited(seconds) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("请求太频繁,请在{}后再试", wait_zh(*seconds)),
                format!("Too many requests; try again in {}.", wait_en(*seconds)),
            ),
            SignInThrottled(seconds) => (
                StatusCode::TOO_MANY_REQUESTS,
                "sign_in_throttled",
                format!("密码错误次数过多,请在{}后再试", wait_zh(*seconds)),
                format!(
                    "Too many wrong passwords; try again in {}.",
                    wait_en(*seconds)
                ),
            ),
            UnknownRoute => (
                StatusCode::NOT_FOUND,
                "unknown_route",
                "没有这个接口,接口列表见 /v1/openapi.json".into(),
                "There is no such endpoint; see /v1/openapi.json.".into(),
            ),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "这个接口不接受这种请求方法,请对照 /v1/openapi.json".into(),
                "This endpoint does not take this method; see /v1/openapi.json.".into(),
            ),
            WrongContentType(expected) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "wrong_content_type",
                format!("请求内容类型不对,应为 Content-Type: {expected}"),
                format!("Send the body as Content-Type: {expected}."),
            ),
            Forbidden(d) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("没有权限:{d}"),
                format!("Not allowed: {d}"),
            ),
            UnknownReport(name) => (
                StatusCode::NOT_FOUND,
                "unknown_report",
                format!("没有名为“{name}”的报表,可用的报表见 /v1/reports"),
                format!("There is no report `{name}`; see /v1/reports for the list."),
            ),
            UnknownParam(name) => (
                StatusCode::BAD_REQUEST,
                "unknown_param",
                format!("不认识的参数“{name}”,请对照接口文档 /v1/openapi.json 修改"),
                format!("Unknown parameter `{name}`; see /v1/openapi.json."),
            ),
            BadParam { name, message } => (
                StatusCode::BAD_REQUEST,
                "bad_param",
                format!("参数“{name}”不正确:{message}"),
                format!("Parameter `{name}`: {message}"),
            ),
            OutOfScope(scope) => (
                StatusCode::FORBIDDEN,
                "out_of_scope",
                format!("您的账号无权查看范围 {scope} 的数据,请选择本辖区内的村、乡镇或县"),
                format!(
                    "Your account may not read {scope}; choose a scope within your own division."
                ),
            ),
            NotFound(what) => (
                StatusCode::NOT_FOUND,
                "not_found",
                format!("找不到{what},它可能尚未同步到服务器"),
                format!("{what} was not found; it may not have been synced yet."),
            ),
            InvalidSettings(problems) => {
                // Each problem as `field: message`, in the language of the text.
                let list = |colon: &str, sep: &str, zh: bool| {
                    problems
                        .iter()
                        .map(|p| {
                            let message = if zh { &p.message } else { &p.message_en };
                            format!("{}{colon}{message}", p.field)
                        })
                        .collect::<Vec<_>>()
                        .join(sep)
                };
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_settings",
                    format!("设置不正确,请修改后再保存:{}", list(":", ";", true)),
                    format!(
                        "The settings are not valid; fix and save again: {}",
                        list(": ", "; ", false)
                    ),
                )
            }
            DeviceRequired => (
                StatusCode::FORBIDDEN,
                "device_required",
                "网页登录只能查看数据;同步请在手机应用中登录".into(),
                "A browser session can only read; sign in on the phone app to sync.".into(),
            ),
            SigningKeyRequired => (
                StatusCode::FORBIDDEN,
                "signing_key_required",
                "这次网页登录没有登记签名密钥,不能审批:请退出后重新登录看板".into(),
                "This browser session registered no signing key and cannot approve: sign out and sign in to the dashboard again.".into(),
            ),
            Refused {
                code,
                message,
                message_en,
            } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                message.clone(),
                message_en.clone(),
            ),
            DeviceRevoked(_) => (
                StatusCode::FORBIDDEN,
                "device_revoked",
                "这部手机已被停用(挂失),不能再登录或同步。请在新手机上登录继续工作;这部手机此前同步的记录都保留在服务器上。".into(),
                "This phone has been cut off (reported lost) and can no longer sign in or sync. Sign in on a new phone to carry on; what this phone synced before stays on the server.".into(),
            ),
            UpdateRequired(_) => (
                StatusCode::UPGRADE_REQUIRED,
                "update_required",
                "这个版本的村记应用太旧,不能再与服务器同步。请更新应用后再同步;未同步的记录都保留在手机上。".into(),
                "This version of the Cunji app is too old to sync with the server. Update the app, then sync again; records not yet sent stay on this phone.".into(),
            ),
            ProtocolTooNew(_) => (
                StatusCode::BAD_REQUEST,
                "protocol_too_new",
                "应用比服务器新,服务器暂时不能接收。记录都保留在手机上;请告知县里的管理员更新服务器。".into(),
                "The app is newer than the server, which cannot take its sync yet. Records stay on this phone; ask the county's administrator to update the server.".into(),
            ),
            Store(e) if e.is_disk_full() => (
                StatusCode::INSUFFICIENT_STORAGE,
                "server_full",
                "服务器存储空间已满,记录仍保存在手机上,请稍后再同步".into(),
                "The server's storage is full; your records stay on the phone; sync again later."
                    .into(),
            ),
            Store(e) if e.is_unavailable() => (
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "服务器的数据库暂时忙不过来或连不上,请稍后再试;手机上的记录都还在".into(),
                "The server's database is busy or unreachable for now; try again shortly. Records on the phone stay there."
                    .into(),
            ),
            Store(_) | Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "服务器内部错误,请稍后重试".into(),
                "Server error; try again later.".into(),
            ),
        }
    }
}

/// The `Retry-After` of `database_unavailable`: the pool waits 15 s for a connection, so a
/// caller coming back a few seconds later finds the queue moved on.
const UNAVAILABLE_RETRY_S: u64 = 5;

/// A wait in words: seconds under two minutes, else minutes (rounded up).
fn wait_zh(seconds: u64) -> String {
    if seconds < 120 {
        format!("{seconds}秒")
    } else {
        format!("{}分钟", seconds.div_ceil(60))
    }
}

fn wait_en(seconds: u64) -> String {
    if seconds < 120 {
        format!("{seconds} s")
    } else {
        format!("{} min", seconds.div_ceil(60))
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection::*;
        match rejection {
            MissingJsonContentType(_) => ApiError::WrongContentType("application/json"),
            r if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
            r => ApiError::Malformed(r.body_text()),
        }
    }
}

impl From<crate::accounts::DeviceRequired> for ApiError {
    fn from(_: crate::accounts::DeviceRequired) -> Self {
        ApiError::DeviceRequired
    }
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::UnknownReport(n) => ApiError::UnknownReport(n),
            ReportError::UnknownParam(n) => ApiError::UnknownParam(n),
            ReportError::BadParam { name, message } => ApiError::BadParam { name, message },
            ReportError::OutOfScope(s) => ApiError::OutOfScope(s),
            ReportError::Store(e) => ApiError::Store(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, message_en) = self.parts();
        // Debug-formatted: a detail quoting the request (a malformed body) cannot write a
        // line of its own into the log. Refusals are the clients' doing: below ERROR.
        if status.is_server_error() {
            tracing::error!(error = ?self.to_string(), "request failed");
        } else {
            tracing::info!(error = ?self.to_string(), code, "request refused");
        }
        let retry_after = match self {
            ApiError::SignInThrottled(seconds) | ApiError::RateLimited(seconds) => Some(seconds),
            ApiError::Store(ref e) if e.is_unavailable() => Some(UNAVAILABLE_RETRY_S),
            _ => None,
        };
        // 426 names the protocol to move to (RFC 9110 §15.5.22).
        let upgrade = matches!(self, ApiError::UpdateRequired(_));
        let body = ErrorBody {
            code: code.into(),
            message,
            message_en,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        if upgrade {
            let to = format!(
                "cunji-sync/{}",
                cunji_core::sync::protocol::PROTOCOL_VERSION
            );
            if let Ok(v) = axum::http::HeaderValue::from_str(&to) {
                response
                    .headers_mut()
                    .insert(axum::http::header::UPGRADE, v);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_server_disk_is_a_507_the_client_retries_later() {
        let full = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(13), None);
        let (status, code, message, _) = ApiError::Store(StoreError::Sqlite(full)).parts();
        assert_eq!((status.as_u16(), code), (507, "server_full"));
        assert!(message.contains("手机上"));
        let other = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(1), None);
        assert_eq!(
            ApiError::Store(StoreError::Sqlite(other)).parts().1,
            "internal"
        );
    }

    #[test]
    fn no_database_connection_for_now_is_a_503_with_retry_after() {
        // What r2d2 says when no pooled connection came within its timeout.
        let timeout = StoreError::Pool("timed out waiting for connection".into());
        let response = ApiError::Store(timeout).into_response();
        assert_eq!(response.status().as_u16(), 503);
        assert_eq!(
            response.headers()[axum::http::header::RETRY_AFTER],
            UNAVAILABLE_RETRY_S.to_string()
        );
        let (_, code, message, _) = ApiError::Store(StoreError::Pool(String::new())).parts();
        assert_eq!(code, "database_unavailable");
        assert!(message.contains("稍后再试"));
        // A corrupt row is not a reason to come back later.
        let corrupt = ApiError::Store(StoreError::Corrupt("a row".into()));
        assert_eq!(corrupt.parts().0.as_u16(), 500);
    }

    #[test]
    fn a_rate_limit_says_how_long_to_wait() {
        let response = ApiError::RateLimited(20).into_response();
        assert_eq!(response.status().as_u16(), 429);
        assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], "20");
        assert!(ApiError::RateLimited(20).parts().2.contains("20秒"));
    }
}
