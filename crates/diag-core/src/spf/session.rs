//! One evaluation session: the DNS client plus a cache of every answer, so a name asked twice (a
//! repeated include, the `mx` term on the domain whose MX the check also reads, the analysis and
//! the later `check_host` for the site's IP) costs one query. A question asked while the same one
//! is in flight waits for that answer instead of sending another.
use std::{
    collections::HashMap,
    future::Future,
    hash::Hash,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    sync::{Arc, Mutex, PoisonError},
};

use tokio::sync::OnceCell;

use crate::net::dns::{Answer, DnsClient, Mx, Txt};

type Slot<K, V> = Mutex<HashMap<K, Arc<OnceCell<V>>>>;

#[derive(Default)]
struct Cache {
    txt: Slot<String, Answer<Txt>>,
    mx: Slot<String, Answer<Mx>>,
    a: Slot<String, Answer<Ipv4Addr>>,
    aaaa: Slot<String, Answer<Ipv6Addr>>,
    ptr: Slot<IpAddr, Answer<String>>,
}

/// A question to start early (see `Session::prefetch`).
#[derive(Clone, Debug)]
pub(crate) enum Question {
    Txt(String),
    Mx(String),
    A(String),
    Aaaa(String),
}

/// The client and the answers it gave in this session. Cheap to clone (shared state).
pub struct Session<C: DnsClient> {
    client: Arc<C>,
    cache: Arc<Cache>,
}

impl<C: DnsClient> Clone for Session<C> {
    fn clone(&self) -> Self {
        Session {
            client: Arc::clone(&self.client),
            cache: Arc::clone(&self.cache),
        }
    }
}

/// Lowercase, without the final dot: the cache key of a name.
pub(crate) fn key(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

async fn cached<K: Eq + Hash, V: Clone, F: Future<Output = V>>(
    slot: &Slot<K, V>,
    k: K,
    fetch: impl FnOnce() -> F,
) -> V {
    let cell = {
        let mut map = slot.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry(k).or_default())
    };
    cell.get_or_init(fetch).await.clone()
}

impl<C: DnsClient> Session<C> {
    pub fn new(client: Arc<C>) -> Session<C> {
        Session {
            client,
            cache: Arc::new(Cache::default()),
        }
    }

    pub fn client(&self) -> &C {
        &self.client
    }

    pub async fn txt(&self, name: &str) -> Answer<Txt> {
        let k = key(name);
        cached(&self.cache.txt, k.clone(), || self.client.txt(&k)).await
    }

    pub async fn mx(&self, name: &str) -> Answer<Mx> {
        let k = key(name);
        cached(&self.cache.mx, k.clone(), || self.client.mx(&k)).await
    }

    pub async fn a(&self, name: &str) -> Answer<Ipv4Addr> {
        let k = key(name);
        cached(&self.cache.a, k.clone(), || self.client.a(&k)).await
    }

    pub async fn aaaa(&self, name: &str) -> Answer<Ipv6Addr> {
        let k = key(name);
        cached(&self.cache.aaaa, k.clone(), || self.client.aaaa(&k)).await
    }

    pub async fn ptr(&self, ip: IpAddr) -> Answer<String> {
        cached(&self.cache.ptr, ip, || self.client.ptr(ip)).await
    }

    /// Starts asking now, in the background; whoever asks the same later gets this answer.
    /// Only for questions the evaluation will ask anyway (see `eval`).
    pub(crate) fn prefetch(&self, question: Question) {
        let session = self.clone();
        tokio::spawn(async move {
            match question {
                Question::Txt(n) => drop(session.txt(&n).await),
                Question::Mx(n) => drop(session.mx(&n).await),
                Question::A(n) => drop(session.a(&n).await),
                Question::Aaaa(n) => drop(session.aaaa(&n).await),
            }
        });
    }
}
