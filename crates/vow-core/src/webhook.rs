//! Webhook delivery rules that need no I/O: when to try again (exponential backoff
//! with full jitter, up to a horizon) and which addresses an outbound request may
//! never reach (the server-side request forgery guard).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The first wait's ceiling: 30 seconds.
pub const BASE_MS: i64 = 30_000;
/// No single wait is longer than 6 hours.
pub const CAP_MS: i64 = 6 * 3_600_000;
/// Retrying stops 3 days after an event was created (or made due again).
pub const HORIZON_MS: i64 = 3 * 86_400_000;
/// How long a delivery claim holds an event by default: far longer than one attempt's
/// timeout, so a live worker never loses its claim, and short enough that a dead
/// worker's events are taken over soon.
pub const LEASE_MS: i64 = 5 * 60 * 1000;

/// When to try again after `attempts` failed attempts (1 or more), or `None` when the
/// horizon has passed and the event is dead. Full jitter (the wait is uniform between
/// zero and `min(CAP, BASE·2^(attempts-1))`) spreads a receiver's recovering load.
/// `random` is any uniformly random number (injected, so tests can pin it). The
/// result is never later than `horizon_at`: the last attempt is made at the horizon.
pub fn next_attempt(now_ms: i64, attempts: u32, horizon_at: i64, random: u64) -> Option<i64> {
    if now_ms >= horizon_at {
        return None;
    }
    let ceiling = ceiling_ms(attempts);
    // `ceiling` is positive and at most CAP_MS, so the cast and the modulo are exact.
    let wait = (random % (ceiling as u64 + 1)) as i64;
    Some(now_ms.saturating_add(wait).min(horizon_at))
}

/// The largest wait after `attempts` failures: BASE doubling, capped.
pub fn ceiling_ms(attempts: u32) -> i64 {
    let doublings = attempts.saturating_sub(1).min(30);
    BASE_MS.saturating_mul(1_i64 << doublings).min(CAP_MS)
}

/// What an operator allows outbound requests to reach beyond the public internet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetAllow {
    /// 127.0.0.0/8 and ::1 (tests, a receiver on the same machine).
    pub loopback: bool,
    /// RFC 1918, CGNAT 100.64.0.0/10 and IPv6 unique-local fc00::/7.
    pub private: bool,
}

/// Why `ip` may not be reached, or `None` if it may. Link-local (cloud metadata
/// services live there), multicast, unspecified, broadcast, reserved and documentation
/// addresses are never allowed.
pub fn forbidden(ip: IpAddr, allow: NetAllow) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4, allow),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4, allow),
            None => forbidden_v6(v6, allow),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr, allow: NetAllow) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        return (!allow.loopback).then_some("loopback");
    }
    let private = ip.is_private() || (a == 100 && (64..128).contains(&b));
    if private {
        return (!allow.private).then_some("private");
    }
    if ip.is_link_local() {
        Some("link_local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_broadcast() || a >= 240 {
        Some("reserved")
    } else if (a, b, c) == (192, 0, 2) || (a, b, c) == (198, 51, 100) || (a, b, c) == (203, 0, 113)
    {
        Some("documentation")
    } else if a == 198 && (b == 18 || b == 19) || (a, b, c) == (192, 0, 0) {
        Some("reserved")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr, allow: NetAllow) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_loopback() {
        return (!allow.loopback).then_some("loopback");
    }
    if s[0] & 0xfe00 == 0xfc00 {
        return (!allow.private).then_some("unique_local");
    }
    if s[0] & 0xffc0 == 0xfe80 {
        Some("link_local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if s[0] == 0x2001 && s[1] == 0x0db8 || s[0] == 0x3fff && s[1] < 0x1000 {
        Some("documentation")
    } else if s[0] == 0x0064 && s[1] == 0xff9b {
        // NAT64 embeds an IPv4 address: judge that one.
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        forbidden_v4(v4, allow)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_guard_refuses_internal_addresses_and_allows_public_ones() {
        let none = NetAllow::default();
        for (addr, why) in [
            ("127.0.0.1", "loopback"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("10.0.0.1", "private"),
            ("172.16.5.4", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "private"),
            ("169.254.169.254", "link_local"),
            ("fe80::1", "link_local"),
            ("fd00::1", "unique_local"),
            ("224.0.0.1", "multicast"),
            ("ff02::1", "multicast"),
            ("0.0.0.0", "unspecified"),
            ("::", "unspecified"),
            ("255.255.255.255", "reserved"),
            ("192.0.2.10", "documentation"),
            ("2001:db8::1", "documentation"),
            ("64:ff9b::a00:1", "private"),
        ] {
            assert_eq!(forbidden(ip(addr), none), Some(why), "{addr}");
        }
        for addr in ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "100.128.0.1"] {
            assert_eq!(forbidden(ip(addr), none), None, "{addr}");
        }
    }

    #[test]
    fn configuration_opens_loopback_and_private_but_never_link_local() {
        let all = NetAllow {
            loopback: true,
            private: true,
        };
        assert_eq!(forbidden(ip("127.0.0.1"), all), None);
        assert_eq!(forbidden(ip("10.1.2.3"), all), None);
        assert_eq!(forbidden(ip("fd12::1"), all), None);
        assert_eq!(forbidden(ip("169.254.169.254"), all), Some("link_local"));
        let lo = NetAllow {
            loopback: true,
            private: false,
        };
        assert_eq!(forbidden(ip("10.1.2.3"), lo), Some("private"));
    }

    #[test]
    fn the_first_waits_double_from_thirty_seconds() {
        assert_eq!(ceiling_ms(1), 30_000);
        assert_eq!(ceiling_ms(2), 60_000);
        assert_eq!(ceiling_ms(3), 120_000);
        assert_eq!(ceiling_ms(50), CAP_MS);
        assert_eq!(
            next_attempt(1_000, 1, 1_000 + HORIZON_MS, 30_000),
            Some(1_000 + 30_000)
        );
        assert_eq!(next_attempt(5, 1, 5, 0), None, "at the horizon: dead");
    }

    proptest! {
        #[test]
        fn backoff_never_exceeds_the_cap_nor_the_horizon(
            created in 0i64..4_000_000_000_000,
            elapsed in 0i64..(4 * 86_400_000),
            attempts in 1u32..10_000,
            random in any::<u64>(),
        ) {
            let horizon = created + HORIZON_MS;
            let now = created + elapsed;
            match next_attempt(now, attempts, horizon, random) {
                None => prop_assert!(now >= horizon),
                Some(at) => {
                    prop_assert!(now < horizon);
                    prop_assert!(at >= now);
                    prop_assert!(at - now <= CAP_MS);
                    prop_assert!(at - now <= ceiling_ms(attempts));
                    prop_assert!(at <= horizon);
                }
            }
        }
    }
}
