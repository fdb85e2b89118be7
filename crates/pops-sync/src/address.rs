//! The hub's address: `https://` always; `http://` only to this computer itself (127.0.0.0/8, ::1,
//! localhost), for tests and a hub on the same machine. Checked before any request is made.

use crate::SyncError;
use url::{Host, Url};

/// A checked hub address, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubAddress(String);

impl HubAddress {
    pub fn parse(text: &str) -> Result<HubAddress, SyncError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SyncError::BadAddress { reason: "it is empty" });
        }
        let url = Url::parse(text).map_err(|_| SyncError::BadAddress { reason: "it is not a web address" })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(SyncError::BadAddress { reason: "it must not hold a user name or password" });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(SyncError::BadAddress { reason: "it must not have anything after a ? or #" });
        }
        let host = url.host().ok_or(SyncError::BadAddress { reason: "it has no server name" })?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => return Err(SyncError::InsecureAddress),
            _ => return Err(SyncError::BadAddress { reason: "it must start with https://" }),
        }
        Ok(HubAddress(url.as_str().trim_end_matches('/').to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address of an API path such as `/v1/health`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_to_this_computer() {
        for ok in [
            "https://hub.pops.org.uk",
            "https://hub.pops.org.uk/",
            "https://10.0.0.5:8443/pops/",
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://[::1]:3000/",
            "http://localhost:3000",
            "http://LOCALHOST",
        ] {
            let a = HubAddress::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(!a.as_str().ends_with('/'), "{ok}");
            assert!(a.join("/v1/health").ends_with("/v1/health"));
        }
        assert_eq!(
            HubAddress::parse("https://hub.pops.org.uk/pops/").unwrap().join("/v1/health"),
            "https://hub.pops.org.uk/pops/v1/health"
        );
        for insecure in [
            "http://hub.pops.org.uk",
            "http://10.0.0.5",
            "http://192.168.1.2:80",
            "http://[fe80::1]",
            "http://localhost.evil.com",
        ] {
            assert_eq!(HubAddress::parse(insecure), Err(SyncError::InsecureAddress), "{insecure}");
        }
        for bad in [
            "",
            "hub.pops.org.uk",
            "ftp://hub.pops.org.uk",
            "https://user:pw@hub.pops.org.uk",
            "https://hub/?x=1",
            "https://hub/#a",
            "file:///etc/passwd",
        ] {
            assert!(matches!(HubAddress::parse(bad), Err(SyncError::BadAddress { .. })), "{bad}");
        }
    }

    #[test]
    fn a_refusal_names_no_credentials() {
        let e = HubAddress::parse("https://admin:s3cret@hub.pops.org.uk").unwrap_err();
        assert!(!e.to_string().contains("s3cret") && !e.to_string().contains("admin"));
    }
}
