//! Authentication and authorisation (the README's "Security"): HS256 JWTs signed with the
//! daemon's secret, claim `type` (admin, write, read), optional `buckets`
//! and `exp`. A token arrives as the Handshake payload and then in the
//! `auth-token-bin` header (pyarrow's `ClientAuthHandler`, the original
//! client), or as `authorization: Bearer TOKEN`.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tonic::metadata::MetadataMap;

use super::error::{DaemonError, Result};
use super::storage::BucketId;

/// What a token may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Role {
    /// get, list, query
    Read,
    /// also put, delete, resample
    Write,
    /// also delete buckets and shut the daemon down
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        }
    }

    fn parse(s: &str) -> Option<Role> {
        match s {
            "read" => Some(Role::Read),
            "write" => Some(Role::Write),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// The claims shoots reads and writes. `buckets` lists bucket names; `""`
/// or `null` stands for the default bucket.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "type", default)]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<Vec<Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}

/// Who is calling: a role and, for a scoped token, the buckets it may touch.
#[derive(Debug, Clone)]
pub struct Principal {
    pub role: Role,
    pub buckets: Option<BTreeSet<BucketId>>,
}

impl Principal {
    /// Anyone, when authentication is off.
    pub fn unrestricted() -> Principal {
        Principal { role: Role::Admin, buckets: None }
    }

    /// Refuses a call that needs more than this token's role.
    pub fn require(&self, needed: Role, what: &str) -> Result<()> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(DaemonError::Unauthorized(format!(
                "a {} token cannot {what}; that needs a {} token",
                self.role.as_str(),
                needed.as_str()
            )))
        }
    }

    pub fn may_use(&self, bucket: &BucketId) -> bool {
        self.buckets.as_ref().is_none_or(|allowed| allowed.contains(bucket))
    }

    pub fn require_bucket(&self, bucket: &BucketId) -> Result<()> {
        if self.may_use(bucket) {
            Ok(())
        } else {
            Err(DaemonError::Unauthorized(format!("this token is not valid for bucket {bucket}")))
        }
    }
}

/// The token checker of a daemon started with `--secret`.
pub struct Auth {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth { secret: <redacted> }")
    }
}

/// The name pyjwt gives a failure; the original client looks for
/// `InvalidSignatureError` in the Handshake's message.
fn jwt_error_name(e: &jsonwebtoken::errors::Error) -> String {
    match e.kind() {
        ErrorKind::InvalidSignature => "InvalidSignatureError: Signature verification failed".into(),
        ErrorKind::ExpiredSignature => "ExpiredSignatureError: Signature has expired".into(),
        ErrorKind::ImmatureSignature => "ImmatureSignatureError: The token is not yet valid (nbf)".into(),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::MissingAlgorithm => {
            "InvalidAlgorithmError: The specified alg value is not allowed".into()
        }
        _ => format!("DecodeError: Invalid token: {e}"),
    }
}

impl Auth {
    pub fn new(secret: &str) -> Auth {
        let mut validation = Validation::new(Algorithm::HS256);
        // Tokens of the original carry no `exp`; when one is there it counts,
        // to the second (pyjwt's default has no leeway either).
        validation.required_spec_claims.clear();
        validation.leeway = 0;
        validation.validate_aud = false;
        Auth { key: DecodingKey::from_secret(secret.as_bytes()), validation }
    }

    fn principal(&self, token: &[u8]) -> Result<Principal, String> {
        let token = std::str::from_utf8(token).map_err(|_| "DecodeError: Invalid token: not UTF-8".to_string())?;
        let data = jsonwebtoken::decode::<Claims>(token.trim(), &self.key, &self.validation)
            .map_err(|e| jwt_error_name(&e))?;
        let role = data
            .claims
            .role
            .as_deref()
            .and_then(Role::parse)
            .ok_or_else(|| "token has incorrect permissions: type must be admin, write or read".to_string())?;
        let buckets = match data.claims.buckets {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|b| BucketId::parse(b.as_deref()))
                    .collect::<Result<BTreeSet<_>>>()
                    .map_err(|e| format!("token has an invalid bucket: {e}"))?,
            ),
        };
        Ok(Principal { role, buckets })
    }

    /// Checks a Handshake payload. A token that does not decode, or whose
    /// signature or expiry is wrong, fails as `FlightServerError` naming the
    /// JWT error (as the original did); a well-signed token with a wrong
    /// `type` as `FlightUnauthenticatedError`.
    pub fn handshake(&self, token: &[u8]) -> Result<Principal> {
        self.principal(token).map_err(|message| {
            if message.starts_with("token has") {
                DaemonError::Unauthenticated(message)
            } else {
                DaemonError::InvalidToken(message)
            }
        })
    }

    /// Checks the password of a Basic Handshake (tools that only know user
    /// and password: any user, the token as password).
    pub fn basic(&self, token: &[u8]) -> Result<Principal> {
        self.principal(token).map_err(|reason| DaemonError::Unauthenticated(format!("invalid token: {reason}")))
    }

    /// Checks the token of an ordinary call: `auth-token-bin` or
    /// `authorization: Bearer`. Any failure is `FlightUnauthenticatedError`.
    pub fn check(&self, headers: &MetadataMap) -> Result<Principal> {
        let token: Vec<u8> = if let Some(bin) = headers.get_bin("auth-token-bin") {
            bin.to_bytes()
                .map_err(|_| DaemonError::Unauthenticated("unreadable auth-token-bin header".into()))?
                .to_vec()
        } else if let Some(value) = headers.get("authorization") {
            let value = value.to_str().unwrap_or_default();
            let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
            if !scheme.eq_ignore_ascii_case("bearer") {
                return Err(DaemonError::Unauthenticated("the authorization header must be `Bearer TOKEN`".into()));
            }
            token.trim().as_bytes().to_vec()
        } else {
            return Err(DaemonError::Unauthenticated(
                "authentication required: send a token (Handshake, auth-token-bin or authorization: Bearer)".into(),
            ));
        };
        self.principal(&token).map_err(|reason| DaemonError::Unauthenticated(format!("invalid token: {reason}")))
    }
}

/// The password of an `authorization: Basic` header, if the call has one.
pub fn basic_password(headers: &MetadataMap) -> Option<Vec<u8>> {
    use base64::Engine;
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    // Go's Flight client leaves the padding off.
    let decoded = base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded.trim().trim_end_matches('=')).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    Some(decoded[colon + 1..].to_vec())
}

/// A token for `shoots token create`.
pub fn mint(secret: &str, role: Role, buckets: &[String], expires_in: Option<Duration>) -> Result<String> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let buckets = if buckets.is_empty() {
        None
    } else {
        for b in buckets {
            BucketId::parse(Some(b))?;
        }
        Some(buckets.iter().map(|b| Some(b.clone())).collect())
    };
    let claims = Claims {
        role: Some(role.as_str().into()),
        buckets,
        exp: expires_in.map(|d| (now + d).as_secs()),
        iat: Some(now.as_secs()),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
        .map_err(|e| DaemonError::InvalidArgument(format!("cannot sign the token: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_check_out() {
        let auth = Auth::new("s3cret");
        let token = mint("s3cret", Role::Write, &["lab".into()], Some(Duration::from_secs(60))).unwrap();
        let p = auth.handshake(token.as_bytes()).unwrap();
        assert_eq!(p.role, Role::Write);
        assert!(p.may_use(&BucketId::parse(Some("lab")).unwrap()));
        assert!(!p.may_use(&BucketId::Default));
        assert!(p.require(Role::Admin, "shut down").is_err());
        assert!(p.require(Role::Read, "read").is_ok());
    }

    #[test]
    fn bad_tokens_name_their_fault() {
        let auth = Auth::new("s3cret");
        let other = mint("other", Role::Admin, &[], None).unwrap();
        match auth.handshake(other.as_bytes()) {
            Err(DaemonError::InvalidToken(m)) => assert!(m.contains("InvalidSignatureError"), "{m}"),
            e => panic!("{e:?}"),
        }
        assert!(matches!(auth.handshake(b"garbage"), Err(DaemonError::InvalidToken(_))));
        let mut headers = MetadataMap::new();
        headers.insert("authorization", format!("Bearer {other}").parse().unwrap());
        assert!(matches!(auth.check(&headers), Err(DaemonError::Unauthenticated(_))));
        assert!(matches!(auth.check(&MetadataMap::new()), Err(DaemonError::Unauthenticated(_))));
    }
}
