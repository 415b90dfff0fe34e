//! The `mfa radius serve` configuration file (TOML), read and checked.
//!
//! Everything is checked before the server starts: secrets long enough,
//! files readable, CIDRs valid, modes known, an upstream where a mode needs
//! one. Unknown keys are errors. Messages never contain a secret: TOML
//! syntax errors are reported by line and column without the offending line.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use mfa_radius::{Client, Mode, SharedSecret};
use serde::Deserialize;
use zeroize::{Zeroize, Zeroizing};

/// The shortest shared secret accepted, in characters.
pub(crate) const MIN_SECRET_CHARS: usize = 16;

/// The `challenge_timeout` values accepted, in seconds: how long the State
/// of an Access-Challenge may be answered. The default is mfa-radius's
/// ([`mfa_radius::Config::default`], 120 s).
pub(crate) const CHALLENGE_TIMEOUT_SECS: core::ops::RangeInclusive<u64> = 1..=600;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: String,
    db: String,
    key_file: PathBuf,
    server_name: Option<String>,
    workers: Option<usize>,
    queue: Option<usize>,
    challenge_timeout: Option<u64>,
    #[serde(default)]
    clients: Vec<FileClient>,
    upstream: Option<FileUpstream>,
    notify: Option<mfa_notify::NotifyConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileClient {
    name: String,
    address: String,
    secret: Option<String>,
    secret_file: Option<PathBuf>,
    mode: String,
    require_message_authenticator: Option<bool>,
    client_ip: Option<String>,
    code_digits: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileUpstream {
    address: String,
    secret: Option<String>,
    secret_file: Option<PathBuf>,
    require_message_authenticator: Option<bool>,
    timeout: Option<u64>,
}

impl Drop for FileClient {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl Drop for FileUpstream {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

/// Where the user's IP address for the store's trusted ranges comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientIpSource {
    /// Calling-Station-Id, when it parses as an IP address (the default:
    /// VPN concentrators put the user's public address there).
    CallingStationId,
    /// NAS-IP-Address / NAS-IPv6-Address.
    NasIpAddress,
    /// None: trusted ranges never apply to this client.
    None,
}

/// One `[[clients]]` entry, resolved.
#[derive(Debug)]
pub(crate) struct ClientEntry {
    pub(crate) network: IpNet,
    pub(crate) client: Client,
    pub(crate) client_ip: ClientIpSource,
    pub(crate) code_digits: usize,
}

/// The `[upstream]` first-factor server, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    pub(crate) address: SocketAddr,
    pub(crate) secret: SharedSecret,
    pub(crate) require_message_authenticator: bool,
    pub(crate) timeout: Duration,
}

/// The whole configuration, resolved and checked.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) listen: SocketAddr,
    pub(crate) db: String,
    pub(crate) key_file: PathBuf,
    pub(crate) server_name: String,
    pub(crate) workers: usize,
    pub(crate) queue: usize,
    /// Seconds the State of an Access-Challenge may be answered.
    pub(crate) challenge_timeout: u64,
    pub(crate) clients: Vec<ClientEntry>,
    pub(crate) upstream: Option<Upstream>,
    pub(crate) notify: Option<mfa_notify::NotifyConfig>,
    /// What is allowed but weakens the deployment, one sentence each.
    pub(crate) warnings: Vec<String>,
}

impl Settings {
    /// The client configured for `ip`: the most specific range that holds it.
    pub(crate) fn client_for(&self, ip: IpAddr) -> Option<&ClientEntry> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.clients
            .iter()
            .filter(|c| c.network.contains(&ip))
            .max_by_key(|c| c.network.prefix_len())
    }
}

/// Reads and checks the configuration file at `path`.
pub(crate) fn load(path: &Path) -> Result<Settings, String> {
    let text = std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, base).map_err(|e| format!("{}: {e}", path.display()))
}

/// A 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Parses configuration text; relative paths are taken from `base`.
pub(crate) fn parse(text: &str, base: &Path) -> Result<Settings, String> {
    let file: FileConfig = toml::from_str(text).map_err(|e| {
        // The error's Display quotes the offending line, which may hold a
        // secret: report the position and the message only.
        match e.span() {
            Some(span) => {
                let (line, col) = line_col(text, span.start);
                format!("line {line}, column {col}: {}", e.message().trim_end())
            }
            None => e.message().trim_end().to_string(),
        }
    })?;
    let mut warnings = Vec::new();
    let listen: SocketAddr = file
        .listen
        .parse()
        .map_err(|_| format!("listen = {:?} is not an address:port", file.listen))?;
    let resolve = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let db = match file.db.strip_prefix("sqlite:") {
        Some(p) if !Path::new(p).is_absolute() => {
            format!("sqlite:{}", resolve(Path::new(p)).display())
        }
        _ => file.db.clone(),
    };
    let upstream = match &file.upstream {
        None => None,
        Some(u) => {
            let address: SocketAddr = u.address.parse().map_err(|_| {
                format!(
                    "[upstream] address = {:?} is not an address:port",
                    u.address
                )
            })?;
            let secret = secret(
                "[upstream]",
                u.secret.as_deref(),
                u.secret_file.as_deref().map(resolve).as_deref(),
            )?;
            let require = u.require_message_authenticator.unwrap_or(true);
            if !require {
                warnings.push(format!(
                    "[upstream] {address}: require_message_authenticator = false: its replies are \
                     accepted without a Message-Authenticator (BlastRADIUS, CVE-2024-3596); use \
                     only for an upstream that cannot send one, on a trusted network"
                ));
            }
            let timeout = u.timeout.unwrap_or(5);
            if !(1..=60).contains(&timeout) {
                return Err(format!("[upstream] timeout = {timeout}: seconds, 1 to 60"));
            }
            Some(Upstream {
                address,
                secret,
                require_message_authenticator: require,
                timeout: Duration::from_secs(timeout),
            })
        }
    };
    if file.clients.is_empty() {
        return Err("no [[clients]]: nothing could send a request".into());
    }
    let mut clients: Vec<ClientEntry> = Vec::new();
    for c in &file.clients {
        let at = format!("[[clients]] {:?}", c.name);
        if c.name.trim().is_empty() {
            return Err("[[clients]] with an empty name".into());
        }
        if clients.iter().any(|e| e.client.name() == c.name) {
            return Err(format!("{at}: a second client with this name"));
        }
        let network: IpNet = c
            .address
            .parse()
            .or_else(|_| c.address.parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| {
                format!(
                    "{at}: address = {:?} is not a CIDR range (e.g. 192.0.2.0/24) or an IP address",
                    c.address
                )
            })?
            .trunc();
        if let Some(other) = clients.iter().find(|e| e.network == network) {
            return Err(format!(
                "{at}: address {network} is also the address of {:?}",
                other.client.name()
            ));
        }
        let mode = Mode::from_name(&c.mode).ok_or_else(|| {
            format!(
                "{at}: mode = {:?}: one of \"otp\", \"challenge\", \"password-otp\"",
                c.mode
            )
        })?;
        let secret = secret(
            &at,
            c.secret.as_deref(),
            c.secret_file.as_deref().map(resolve).as_deref(),
        )?;
        let require = c.require_message_authenticator.unwrap_or(true);
        if !require {
            warnings.push(format!(
                "{at}: require_message_authenticator = false: requests without a \
                 Message-Authenticator are accepted (BlastRADIUS, CVE-2024-3596); use only for \
                 a client that cannot send one"
            ));
        }
        match (mode, &upstream) {
            (Mode::PasswordOtp, None) => {
                return Err(format!(
                    "{at}: mode = \"password-otp\" needs an [upstream] to check the password"
                ));
            }
            (Mode::Challenge, None) => warnings.push(format!(
                "{at}: mode = \"challenge\" without an [upstream]: the password of the first \
                 request is NOT CHECKED; the one-time code is the only factor"
            )),
            _ => {}
        }
        let client_ip = match c.client_ip.as_deref() {
            None | Some("calling-station-id") => ClientIpSource::CallingStationId,
            Some("nas-ip-address") => ClientIpSource::NasIpAddress,
            Some("none") => ClientIpSource::None,
            Some(other) => {
                return Err(format!(
                    "{at}: client_ip = {other:?}: one of \"calling-station-id\", \"nas-ip-address\", \"none\""
                ));
            }
        };
        let code_digits = c.code_digits.unwrap_or(6);
        if !(6..=9).contains(&code_digits) {
            return Err(format!("{at}: code_digits = {code_digits}: 6 to 9"));
        }
        clients.push(ClientEntry {
            network,
            client: Client::new(c.name.clone(), secret, mode)
                .require_message_authenticator(require),
            client_ip,
            code_digits,
        });
    }
    if let Some(n) = &file.notify {
        n.check().map_err(|e| format!("[notify]: {e}"))?;
    }
    let has_phone = file.notify.as_ref().is_some_and(|n| n.has_phone());
    if !has_phone && clients.iter().any(|c| c.client.mode() == Mode::Challenge) {
        warnings.push(
            "no [notify] SMS sender (sms.command or sms.webhook_url): users with a phone but \
             no token are rejected in challenge mode"
                .into(),
        );
    }
    let workers = file.workers.unwrap_or(16);
    if !(1..=256).contains(&workers) {
        return Err(format!("workers = {workers}: 1 to 256"));
    }
    let queue = file.queue.unwrap_or(256);
    if !(1..=65_536).contains(&queue) {
        return Err(format!("queue = {queue}: 1 to 65536"));
    }
    let challenge_timeout = file
        .challenge_timeout
        .unwrap_or(mfa_radius::Config::default().session_ttl);
    if !CHALLENGE_TIMEOUT_SECS.contains(&challenge_timeout) {
        return Err(format!(
            "challenge_timeout = {challenge_timeout}: seconds, {} to {}",
            CHALLENGE_TIMEOUT_SECS.start(),
            CHALLENGE_TIMEOUT_SECS.end()
        ));
    }
    let server_name = file
        .server_name
        .clone()
        .unwrap_or_else(|| "mfa-radius".into());
    mfa_store::VerifyContext::new(&server_name, listen.ip())
        .map_err(|e| format!("server_name = {server_name:?}: {e}"))?;
    Ok(Settings {
        listen,
        db,
        key_file: resolve(&file.key_file),
        server_name,
        workers,
        queue,
        challenge_timeout,
        clients,
        upstream,
        notify: file.notify,
        warnings,
    })
}

/// A shared secret from `secret` or the first line of `secret_file`
/// (exactly one of them), at least [`MIN_SECRET_CHARS`] characters.
fn secret(at: &str, inline: Option<&str>, file: Option<&Path>) -> Result<SharedSecret, String> {
    let text = match (inline, file) {
        (Some(_), Some(_)) => {
            return Err(format!("{at}: both secret and secret_file; give one"));
        }
        (None, None) => return Err(format!("{at}: no secret or secret_file")),
        (Some(s), None) => Zeroizing::new(s.to_owned()),
        (None, Some(path)) => {
            let all = std::fs::read_to_string(path)
                .map(Zeroizing::new)
                .map_err(|e| format!("{at}: secret_file {}: {e}", path.display()))?;
            Zeroizing::new(all.lines().next().unwrap_or_default().to_owned())
        }
    };
    let chars = text.chars().count();
    if chars < MIN_SECRET_CHARS {
        return Err(format!(
            "{at}: the shared secret has {chars} characters; at least {MIN_SECRET_CHARS} are required"
        ));
    }
    SharedSecret::new(text.as_bytes()).map_err(|e| format!("{at}: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const BASE: &str = r#"
listen = "127.0.0.1:1812"
db = "sqlite:mfa.db"
key_file = "mfa.key"
"#;

    fn cfg(rest: &str) -> Result<Settings, String> {
        parse(&format!("{BASE}{rest}"), Path::new("/etc/mfa"))
    }

    #[test]
    fn a_minimal_config_resolves_paths_and_defaults() {
        let s = cfg(
            "[[clients]]\nname = \"vpn\"\naddress = \"10.0.0.0/8\"\nsecret = \"0123456789abcdef\"\nmode = \"otp\"\n",
        )
        .unwrap();
        assert_eq!(s.db, "sqlite:/etc/mfa/mfa.db");
        assert_eq!(s.key_file, Path::new("/etc/mfa/mfa.key"));
        assert!(s.clients[0].client.requires_message_authenticator());
        assert_eq!(s.clients[0].client_ip, ClientIpSource::CallingStationId);
        // Enough workers for the store's group commit to gather a group.
        assert_eq!(s.workers, 16);
        assert!(s.client_for("10.1.2.3".parse().unwrap()).is_some());
        assert!(s.client_for("::ffff:10.1.2.3".parse().unwrap()).is_some());
        assert!(s.client_for("192.0.2.1".parse().unwrap()).is_none());
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn short_secrets_unknown_keys_and_bad_ranges_are_refused() {
        let e = cfg("[[clients]]\nname = \"vpn\"\naddress = \"10.0.0.0/8\"\nsecret = \"short-secret\"\nmode = \"otp\"\n").unwrap_err();
        assert!(e.contains("12 characters; at least 16"), "{e}");
        assert!(!e.contains("short-secret"), "{e}");
        let e = cfg("[[clients]]\nname = \"vpn\"\naddress = \"10.0.0.0/8\"\nsecret = \"0123456789abcdef\"\nmode = \"otp\"\nsecrett = 1\n").unwrap_err();
        assert!(e.contains("unknown field `secrett`"), "{e}");
        let e = cfg("[[clients]]\nname = \"vpn\"\naddress = \"10.0.0.0/33\"\nsecret = \"0123456789abcdef\"\nmode = \"otp\"\n").unwrap_err();
        assert!(e.contains("not a CIDR"), "{e}");
        let e = cfg("[[clients]]\nname = \"vpn\"\naddress = \"10.0.0.0/8\"\nsecret = \"0123456789abcdef\"\nmode = \"password-otp\"\n").unwrap_err();
        assert!(e.contains("needs an [upstream]"), "{e}");
    }

    #[test]
    fn challenge_timeout_defaults_to_the_protocol_default_and_is_bounded() {
        let client = "[[clients]]\nname = \"vpn\"\naddress = \"10.0.0.0/8\"\nsecret = \"0123456789abcdef\"\nmode = \"challenge\"\n";
        let s = cfg(client).unwrap();
        assert_eq!(s.challenge_timeout, 120);
        assert_eq!(
            s.challenge_timeout,
            mfa_radius::Config::default().session_ttl
        );
        for ok in [1, 30, 600] {
            let s = cfg(&format!("challenge_timeout = {ok}\n{client}")).unwrap();
            assert_eq!(s.challenge_timeout, ok);
        }
        for bad in [0, 601, 86_400] {
            let e = cfg(&format!("challenge_timeout = {bad}\n{client}")).unwrap_err();
            assert_eq!(e, format!("challenge_timeout = {bad}: seconds, 1 to 600"));
        }
        let e = cfg(&format!("challenge_timeout = -1\n{client}")).unwrap_err();
        assert!(e.contains("line 5"), "{e}");
        let e = cfg(&format!("challenge_timeout = \"2m\"\n{client}")).unwrap_err();
        assert!(e.contains("line 5"), "{e}");
    }

    #[test]
    fn a_syntax_error_does_not_quote_the_secret() {
        let e = cfg("[[clients]]\nname = \"vpn\"\nsecret = \"my-very-secret-value\" oops\n")
            .unwrap_err();
        assert!(e.starts_with("line 7"), "{e}");
        assert!(!e.contains("my-very-secret-value"), "{e}");
    }

    #[test]
    fn weak_settings_are_warned_about() {
        let s = cfg("[[clients]]\nname = \"gw\"\naddress = \"127.0.0.1\"\nsecret = \"0123456789abcdef\"\nmode = \"challenge\"\nrequire_message_authenticator = false\n").unwrap();
        let all = s.warnings.join("\n");
        assert!(all.contains("NOT CHECKED"), "{all}");
        assert!(all.contains("BlastRADIUS"), "{all}");
        assert!(all.contains("no [notify] SMS sender"), "{all}");
    }
}
