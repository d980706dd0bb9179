//! Who holds the receiver's connections. A cap on the total alone lets one peer fill it with
//! idle connections and starve every gateway (they discard a post that fails). So each peer
//! (an IPv4 address, or an IPv6 /64: one host can hold a whole /64) gets at most a share, and
//! when the total is reached a newcomer takes the place of the oldest idle connection of the
//! busiest peer, as long as that peer holds more than the newcomer.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::oneshot;

/// The unit connections are counted per: an IPv4 address or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerKey(IpAddr);

impl PeerKey {
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => PeerKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => PeerKey(IpAddr::V4(v4)),
                None => {
                    let s = v6.segments();
                    PeerKey(IpAddr::V6(Ipv6Addr::new(
                        s[0], s[1], s[2], s[3], 0, 0, 0, 0,
                    )))
                }
            },
        }
    }
}

impl std::fmt::Display for PeerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

struct Held {
    id: u64,
    opened: Instant,
    /// Set while the connection hands a post to the store: shedding it then would leave the
    /// gateway without its answer.
    storing: Arc<AtomicBool>,
    /// Closes the connection.
    shed: Option<oneshot::Sender<()>>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    total: usize,
    peers: HashMap<PeerKey, Vec<Held>>,
}

impl Table {
    /// Closes the oldest connection of `peer` that is not storing; whether one was found.
    fn shed_oldest_idle(&mut self, peer: PeerKey) -> bool {
        let Some(held) = self.peers.get_mut(&peer) else {
            return false;
        };
        let oldest = held
            .iter_mut()
            .filter(|h| h.shed.is_some() && !h.storing.load(Ordering::Relaxed))
            .min_by_key(|h| h.opened);
        match oldest.and_then(|h| h.shed.take()) {
            Some(shed) => {
                // The connection leaves the table when its task ends; count it gone now.
                let _ = shed.send(());
                true
            }
            None => false,
        }
    }

    /// Connections of `peer` that have not been told to close.
    fn live(&self, peer: PeerKey) -> usize {
        self.peers
            .get(&peer)
            .map_or(0, |h| h.iter().filter(|h| h.shed.is_some()).count())
    }
}

/// The receiver's connections by peer.
pub struct Connections {
    table: Mutex<Table>,
    max_total: usize,
    max_per_peer: usize,
}

/// Why a connection was closed at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The peer holds its share and none of its connections could make room.
    PeerFull,
    /// Every connection is held by peers with no more than this one's share.
    Full,
}

/// A connection's place in the table; it leaves the table when dropped.
pub struct Admitted {
    connections: Arc<Connections>,
    peer: PeerKey,
    id: u64,
    pub storing: Arc<AtomicBool>,
    /// Resolves when the connection is shed for a newcomer.
    pub shed: oneshot::Receiver<()>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut t = self.connections.table.lock();
        if let Some(held) = t.peers.get_mut(&self.peer) {
            if let Some(i) = held.iter().position(|h| h.id == self.id) {
                held.swap_remove(i);
                t.total -= 1;
            }
            if t.peers.get(&self.peer).is_some_and(Vec::is_empty) {
                t.peers.remove(&self.peer);
            }
        }
    }
}

impl Connections {
    pub fn new(max_total: usize, max_per_peer: usize) -> Arc<Self> {
        Arc::new(Self {
            table: Mutex::new(Table::default()),
            max_total: max_total.max(1),
            max_per_peer: max_per_peer.max(1),
        })
    }

    /// Admits a new connection from `ip`, making room as described above when needed.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Admitted, Refused> {
        let peer = PeerKey::of(ip);
        let mut t = self.table.lock();
        let mine = t.live(peer);
        if mine >= self.max_per_peer {
            // The newcomer takes the place of the peer's own oldest idle connection (the total
            // stays as it is), or there is none to take.
            if !t.shed_oldest_idle(peer) {
                return Err(Refused::PeerFull);
            }
        } else if t.total >= self.max_total {
            let busiest = t
                .peers
                .keys()
                .copied()
                .filter(|p| *p != peer)
                .map(|p| (t.live(p), p))
                .max();
            match busiest {
                Some((theirs, other)) if theirs > mine + 1 && t.shed_oldest_idle(other) => {}
                _ => return Err(Refused::Full),
            }
            // The shed connection is still counted until its task ends; allow a small overrun
            // of the cap rather than refuse the fair newcomer.
        }
        let id = t.next_id;
        t.next_id += 1;
        t.total += 1;
        let storing = Arc::new(AtomicBool::new(false));
        let (tx, rx) = oneshot::channel();
        t.peers.entry(peer).or_default().push(Held {
            id,
            opened: Instant::now(),
            storing: storing.clone(),
            shed: Some(tx),
        });
        Ok(Admitted {
            connections: self.clone(),
            peer,
            id,
            storing,
            shed: rx,
        })
    }

    /// (connections, peers) held now.
    pub fn counts(&self) -> (usize, usize) {
        let t = self.table.lock();
        (t.total, t.peers.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_peer_gets_its_share_and_its_oldest_idle_makes_room() {
        let c = Connections::new(100, 3);
        let mut held: Vec<Admitted> = (0..3).map(|_| c.admit(ip("10.0.0.9")).unwrap()).collect();
        // A fourth from the same peer closes that peer's oldest (not storing) connection.
        held[0].storing.store(true, Ordering::Relaxed);
        let fourth = c.admit(ip("10.0.0.9")).unwrap();
        assert!(held[0].shed.try_recv().is_err(), "storing: kept");
        assert!(held[1].shed.try_recv().is_ok(), "oldest idle: shed");
        // All storing: the newcomer is refused instead.
        for h in &held {
            h.storing.store(true, Ordering::Relaxed);
        }
        fourth.storing.store(true, Ordering::Relaxed);
        drop(held.remove(1));
        assert_eq!(c.admit(ip("10.0.0.9")).err(), Some(Refused::PeerFull));
        // Another peer is not affected.
        assert!(c.admit(ip("10.0.0.10")).is_ok());
    }

    #[test]
    fn a_full_table_makes_room_for_a_newcomer_from_the_busiest_peer() {
        let c = Connections::new(10, 8);
        let mut flood: Vec<Admitted> = (0..8).map(|_| c.admit(ip("10.0.0.66")).unwrap()).collect();
        let mut other: Vec<Admitted> = (0..2).map(|_| c.admit(ip("10.0.0.67")).unwrap()).collect();
        assert_eq!(c.counts(), (10, 2));
        // What a connection's task does when told to close.
        let end_shed = |held: &mut Vec<Admitted>| held.retain_mut(|a| a.shed.try_recv().is_err());
        // A gateway with no connection gets in at the busiest peer's expense.
        let _gateway = c.admit(ip("10.0.0.5")).unwrap();
        end_shed(&mut flood);
        assert_eq!(flood.len(), 7);
        assert_eq!(c.counts(), (10, 3));
        // The busiest peer cannot push the others out.
        assert_eq!(c.admit(ip("10.0.0.66")).err(), Some(Refused::Full));
        // A peer with fewer takes from the busiest until the shares are even.
        for expected_flood in [6, 5] {
            other.push(c.admit(ip("10.0.0.67")).unwrap());
            end_shed(&mut flood);
            assert_eq!(flood.len(), expected_flood);
        }
        assert_eq!(c.admit(ip("10.0.0.67")).err(), Some(Refused::Full));
        assert_eq!(c.counts(), (10, 3));
    }

    #[test]
    fn a_peer_at_its_share_in_a_full_table_replaces_only_its_own() {
        let c = Connections::new(6, 3);
        let mut a: Vec<Admitted> = (0..3).map(|_| c.admit(ip("10.0.0.1")).unwrap()).collect();
        let mut b: Vec<Admitted> = (0..3).map(|_| c.admit(ip("10.0.0.2")).unwrap()).collect();
        let _newer = c.admit(ip("10.0.0.1")).unwrap();
        assert!(a[0].shed.try_recv().is_ok(), "its own oldest made room");
        assert!(
            b.iter_mut().all(|x| x.shed.try_recv().is_err()),
            "nobody else's"
        );
    }

    #[test]
    fn ipv6_peers_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            PeerKey::of(ip("2001:db8:1:2:aaaa::1")),
            PeerKey::of(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            PeerKey::of(ip("2001:db8:1:2::1")),
            PeerKey::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            PeerKey::of(ip("::ffff:10.0.0.1")),
            PeerKey::of(ip("10.0.0.1"))
        );
        assert_eq!(
            PeerKey::of(ip("2001:db8:1:2::1")).to_string(),
            "2001:db8:1:2::/64"
        );
        let c = Connections::new(10, 1);
        let _a = c.admit(ip("2001:db8:1:2::1")).unwrap();
        let _b = c.admit(ip("2001:db8:1:2::2")).unwrap();
        // The second shed the first: one peer.
        assert_eq!(c.counts().1, 1);
    }
}
