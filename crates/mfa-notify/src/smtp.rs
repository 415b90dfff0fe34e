//! E-mail over SMTP (lettre, rustls with ring).

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport as _};
use zeroize::Zeroizing;

use crate::config::{NotifyConfig, SmtpTls, address};
use crate::error::{Error, Transport};

/// A configured SMTP relay. No connection is kept between messages.
pub(crate) struct Smtp {
    transport: SmtpTransport,
    from: lettre::Address,
    timeout_secs: u64,
}

impl Smtp {
    pub(crate) fn new(
        config: &NotifyConfig,
        password: Option<Zeroizing<String>>,
        ca: Option<&[u8]>,
    ) -> Result<Smtp, Error> {
        let host = config.smtp_host.clone();
        let tls = match config.smtp_tls {
            SmtpTls::None => Tls::None,
            mode => {
                let mut b = TlsParameters::builder(host.clone());
                if let Some(pem) = ca {
                    let cert = Certificate::from_pem(pem).map_err(|e| ca_error(config, e))?;
                    b = b
                        .certificate_store(CertificateStore::None)
                        .add_root_certificate(cert);
                }
                let params = b.build_rustls().map_err(|e| ca_error(config, e))?;
                if mode == SmtpTls::Implicit {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder = SmtpTransport::builder_dangerous(host)
            .port(config.smtp_port())
            .tls(tls)
            .timeout(Some(Duration::from_secs(config.timeout_secs)));
        if let Some(password) = password {
            // lettre keeps its own copy of the password for the life of
            // the transport; ours is wiped here.
            builder = builder.credentials(Credentials::new(
                config.smtp_user.clone(),
                password.as_str().to_owned(),
            ));
        }
        Ok(Smtp {
            transport: builder.build(),
            from: address(&config.smtp_from)?,
            timeout_secs: config.timeout_secs,
        })
    }

    /// Sends one message to one recipient.
    pub(crate) fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), Error> {
        let to_addr = address(to)?;
        let message = Message::builder()
            .from(lettre::message::Mailbox::new(None, self.from.clone()))
            .to(lettre::message::Mailbox::new(None, to_addr))
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| Error::Smtp {
                source: Box::new(e),
            })?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| self.error(to, e))
    }

    fn error(&self, to: &str, e: lettre::transport::smtp::Error) -> Error {
        if let Some(code) = e.status() {
            return Error::SmtpRefused {
                recipient: to.to_owned(),
                code: code.into(),
            };
        }
        if e.is_timeout() {
            return Error::Timeout {
                transport: Transport::Smtp,
                seconds: self.timeout_secs,
            };
        }
        if e.is_client() || e.is_response() || e.is_transport_shutdown() {
            return Error::Smtp {
                source: Box::new(e),
            };
        }
        // Connection, network and TLS errors.
        Error::Connect {
            transport: Transport::Smtp,
            source: Box::new(e),
        }
    }
}

fn ca_error(config: &NotifyConfig, e: lettre::transport::smtp::Error) -> Error {
    Error::File {
        name: "notify.smtp.ca_file",
        path: config.smtp_ca_file.clone().unwrap_or_default(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    }
}
