//! The SMS/voice gateway's HTTP webhook (ureq, rustls with ring).

use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
use zeroize::Zeroizing;

use crate::config::NotifyConfig;
use crate::error::{Error, Transport};

pub(crate) struct Webhook {
    agent: ureq::Agent,
    url: String,
    token: Option<Zeroizing<String>>,
    timeout_secs: u64,
}

impl Webhook {
    pub(crate) fn new(
        config: &NotifyConfig,
        token: Option<Zeroizing<String>>,
        ca: Option<&[u8]>,
    ) -> Result<Webhook, Error> {
        let roots = match ca {
            Some(pem) => {
                let certs = ureq::tls::parse_pem(pem)
                    .filter_map(|item| match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                        Ok(_) => None,
                        Err(e) => Some(Err(e)),
                    })
                    .collect::<Result<Vec<Certificate<'static>>, _>>()
                    .map_err(|e| ca_error(config, e.to_string()))?;
                if certs.is_empty() {
                    return Err(ca_error(config, "no certificate in the file".to_owned()));
                }
                RootCerts::Specific(Arc::new(certs))
            }
            None => {
                let native = rustls_native_certs::load_native_certs();
                let certs: Vec<Certificate<'static>> = native
                    .certs
                    .iter()
                    .map(|c| Certificate::from_der(c.as_ref()).to_owned())
                    .collect();
                if certs.is_empty() {
                    RootCerts::WebPki
                } else {
                    RootCerts::Specific(Arc::new(certs))
                }
            }
        };
        let timeout = Some(Duration::from_secs(config.timeout_secs));
        let agent = ureq::Agent::config_builder()
            .tls_config(
                TlsConfig::builder()
                    .provider(TlsProvider::Rustls)
                    .root_certs(roots)
                    .build(),
            )
            .timeout_global(timeout)
            .timeout_connect(timeout)
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("mfa-notify/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(Webhook {
            agent,
            url: config.webhook_url.clone(),
            token,
            timeout_secs: config.timeout_secs,
        })
    }

    /// POSTs `body` (JSON). 2xx is success.
    pub(crate) fn post(&self, body: &[u8]) -> Result<(), Error> {
        let mut request = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/json");
        if let Some(token) = &self.token {
            let value = Zeroizing::new(format!("Bearer {}", token.as_str()));
            request = request.header("Authorization", value.as_str());
        }
        match request.send(body) {
            Ok(response) => {
                let status = response.status().as_u16();
                if (200..300).contains(&status) {
                    Ok(())
                } else {
                    Err(Error::WebhookStatus { status })
                }
            }
            Err(e) => Err(self.error(e)),
        }
    }

    fn error(&self, e: ureq::Error) -> Error {
        use ureq::Error as E;
        let connect = |e: ureq::Error| Error::Connect {
            transport: Transport::Webhook,
            source: Box::new(e),
        };
        match e {
            E::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect) => connect(e),
            E::Timeout(_) => Error::Timeout {
                transport: Transport::Webhook,
                seconds: self.timeout_secs,
            },
            E::HostNotFound | E::ConnectionFailed | E::Tls(_) | E::Rustls(_) => connect(e),
            E::Io(ref io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::ConnectionRefused
                        | std::io::ErrorKind::HostUnreachable
                        | std::io::ErrorKind::NetworkUnreachable
                        | std::io::ErrorKind::AddrNotAvailable
                ) =>
            {
                connect(e)
            }
            // A TLS handshake failure (untrusted certificate, wrong name).
            E::Io(ref io)
                if io
                    .get_ref()
                    .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) =>
            {
                connect(e)
            }
            E::Io(ref io) if io.kind() == std::io::ErrorKind::TimedOut => Error::Timeout {
                transport: Transport::Webhook,
                seconds: self.timeout_secs,
            },
            e => Error::Webhook {
                source: Box::new(e),
            },
        }
    }
}

fn ca_error(config: &NotifyConfig, why: String) -> Error {
    Error::File {
        name: "notify.sms.webhook_ca_file",
        path: config.webhook_ca_file.clone().unwrap_or_default(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, why),
    }
}
