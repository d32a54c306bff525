//! One function per behaviour, taking a fixture; `both!` instantiates each for both backends.

use std::collections::BTreeMap;
use std::sync::Arc;

use mastra_memory::{
    CloneThread, Direction, MemoryError, MemoryStore, MessageQuery, NewMessage, NewThread, Paging,
    SCHEMA_VERSION, Scope, ThreadOrder, ThreadPatch, ThreadQuery,
};
use serde_json::{Value, json};

use crate::support::Fixture;

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                super::$name(crate::support::sqlite().await).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                super::$name(crate::support::postgres().await).await
            })*
        }
    };
}

both!(
    threads_round_trip,
    another_resource_sees_nothing,
    client_chosen_ids_are_never_shared,
    messages_page_in_append_order,
    last_messages_are_the_newest_oldest_first,
    concurrent_appends_from_two_handles_keep_every_message_in_order,
    a_failed_write_leaves_nothing_behind,
    clone_copies_messages_with_new_ids,
    migrations_are_idempotent,
    listing_pages_and_sorts,
);

#[tokio::test]
async fn the_sqlite_file_is_private_and_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/memory.db");
    let store = mastra_memory::SqliteStore::file(&path);
    assert!(!path.exists(), "nothing is created before the first use");
    store.migrate().await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let perms = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(perms & 0o777, 0o600);
    }
}

fn alice() -> Scope {
    Scope::resource("alice")
}

fn bob() -> Scope {
    Scope::resource("bob")
}

fn new_thread(resource: &str, id: Option<&str>) -> NewThread {
    NewThread {
        id: id.map(str::to_owned),
        resource_id: resource.to_owned(),
        title: Some("first".into()),
        metadata: Some(json!({"topic": "weather"})),
    }
}

fn text(thread: &str, role: &str, text: &str) -> NewMessage {
    NewMessage {
        id: None,
        thread_id: thread.to_owned(),
        role: role.to_owned(),
        kind: "text".to_owned(),
        content: json!({"format": 2, "parts": [{"type": "text", "text": text}], "content": text}),
        created_at_ms: None,
    }
}

fn all_messages() -> MessageQuery {
    MessageQuery {
        paging: Paging {
            page: 0,
            per_page: None,
        },
        direction: Direction::Asc,
    }
}

fn texts(messages: &[mastra_memory::Message]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m.content["content"].as_str().unwrap_or("?").to_owned())
        .collect()
}

fn threads_of(resource: Option<&str>) -> ThreadQuery {
    ThreadQuery {
        resource_id: resource.map(str::to_owned),
        paging: Paging {
            page: 0,
            per_page: Some(100),
        },
        order: ThreadOrder::CreatedAt,
        direction: Direction::Desc,
    }
}

async fn threads_round_trip(f: Fixture) {
    let s = &f.store;
    let t = s
        .create_thread(&alice(), new_thread("alice", None))
        .await
        .unwrap();
    assert_eq!(
        uuid_version(&t.id),
        Some(4),
        "generated ids are random UUIDs: {}",
        t.id
    );
    assert_eq!(t.resource_id, "alice");
    assert_eq!(s.get_thread(&alice(), &t.id).await.unwrap(), t);

    let renamed = s
        .update_thread(
            &alice(),
            &t.id,
            ThreadPatch {
                title: Some("renamed".into()),
                metadata: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.title.as_deref(), Some("renamed"));
    assert_eq!(renamed.metadata, Some(json!({"topic": "weather"})));
    assert!(renamed.updated_at_ms >= t.updated_at_ms);

    let listed = s.list_threads(&alice(), &threads_of(None)).await.unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.items[0].title.as_deref(), Some("renamed"));

    s.save_messages(&alice(), vec![text(&t.id, "user", "hi")])
        .await
        .unwrap();
    s.delete_thread(&alice(), &t.id).await.unwrap();
    assert!(matches!(
        s.get_thread(&alice(), &t.id).await,
        Err(MemoryError::ThreadNotFound)
    ));
    assert!(matches!(
        s.list_messages(&alice(), &t.id, &all_messages()).await,
        Err(MemoryError::ThreadNotFound)
    ));
    assert!(matches!(
        s.delete_thread(&alice(), &t.id).await,
        Err(MemoryError::ThreadNotFound)
    ));
}

fn uuid_version(id: &str) -> Option<usize> {
    let v = id.split('-').nth(2)?.chars().next()?;
    v.to_digit(16).map(|d| d as usize)
}

async fn another_resource_sees_nothing(f: Fixture) {
    let s = &f.store;
    let t = s
        .create_thread(&alice(), new_thread("alice", None))
        .await
        .unwrap();
    let saved = s
        .save_messages(&alice(), vec![text(&t.id, "user", "secret")])
        .await
        .unwrap();

    let not_found = |r: Result<_, MemoryError>| matches!(r, Err(MemoryError::ThreadNotFound));
    assert!(not_found(s.get_thread(&bob(), &t.id).await.map(|_| ())));
    assert!(not_found(
        s.update_thread(&bob(), &t.id, ThreadPatch::default())
            .await
            .map(|_| ())
    ));
    assert!(not_found(s.delete_thread(&bob(), &t.id).await));
    assert!(not_found(
        s.list_messages(&bob(), &t.id, &all_messages())
            .await
            .map(|_| ())
    ));
    assert!(matches!(
        s.last_messages(&bob(), &t.id, 10).await,
        Err(MemoryError::IdTaken { .. })
    ));
    assert!(
        s.last_messages(&bob(), "not-yet", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(not_found(
        s.save_messages(&bob(), vec![text(&t.id, "user", "injected")])
            .await
            .map(|_| ())
    ));
    assert!(not_found(
        s.clone_thread(&bob(), &t.id, CloneThread::default())
            .await
            .map(|_| ())
    ));
    // Appending to a thread id another resource owns is refused, never merged.
    assert!(matches!(
        s.append(
            &bob(),
            new_thread("bob", Some(&t.id)),
            vec![text(&t.id, "user", "x")]
        )
        .await,
        Err(MemoryError::IdTaken { .. })
    ));
    assert_eq!(
        s.delete_messages(&bob(), &[saved[0].id.clone()])
            .await
            .unwrap(),
        0
    );
    // Listing: bob's own list is empty; naming alice is refused.
    assert_eq!(
        s.list_threads(&bob(), &threads_of(None))
            .await
            .unwrap()
            .total,
        0
    );
    assert!(matches!(
        s.list_threads(&bob(), &threads_of(Some("alice"))).await,
        Err(MemoryError::ForeignResource)
    ));
    assert!(matches!(
        s.create_thread(&bob(), new_thread("alice", None)).await,
        Err(MemoryError::ForeignResource)
    ));

    // Alice's thread is untouched.
    let page = s
        .list_messages(&alice(), &t.id, &all_messages())
        .await
        .unwrap();
    assert_eq!(texts(&page.items), ["secret"]);
    assert_eq!(
        s.get_thread(&alice(), &t.id)
            .await
            .unwrap()
            .title
            .as_deref(),
        Some("first")
    );

    // Even an unrestricted scope cannot append to alice's thread as another resource.
    assert!(matches!(
        s.append(
            &Scope::unrestricted(),
            new_thread("bob", Some(&t.id)),
            vec![text(&t.id, "user", "x")]
        )
        .await,
        Err(MemoryError::IdTaken { .. })
    ));
    // An unrestricted scope (auth off, or a principal given cross-resource access) sees both.
    let everyone = Scope::unrestricted();
    s.create_thread(&bob(), new_thread("bob", None))
        .await
        .unwrap();
    assert_eq!(
        s.list_threads(&everyone, &threads_of(None))
            .await
            .unwrap()
            .total,
        2
    );
    assert_eq!(
        s.list_threads(&everyone, &threads_of(Some("alice")))
            .await
            .unwrap()
            .total,
        1
    );
}

async fn client_chosen_ids_are_never_shared(f: Fixture) {
    let s = &f.store;
    let t = s
        .create_thread(&alice(), new_thread("alice", Some("chat-1")))
        .await
        .unwrap();
    assert_eq!(t.id, "chat-1");
    // Bob asks for the same id: refused, alice's thread unchanged.
    assert!(matches!(
        s.create_thread(&bob(), new_thread("bob", Some("chat-1")))
            .await,
        Err(MemoryError::IdTaken { kind: "Thread" })
    ));
    // Alice creating it again updates it (Mastra's upsert).
    let mut again = new_thread("alice", Some("chat-1"));
    again.title = Some("second".into());
    let t2 = s.create_thread(&alice(), again).await.unwrap();
    assert_eq!(
        (t2.id.as_str(), t2.title.as_deref()),
        ("chat-1", Some("second"))
    );
    assert_eq!(t2.created_at_ms, t.created_at_ms);

    // A message id is bound to its thread.
    let other = s
        .create_thread(&alice(), new_thread("alice", None))
        .await
        .unwrap();
    let mut m = text("chat-1", "user", "one");
    m.id = Some("m-1".into());
    s.save_messages(&alice(), vec![m.clone()]).await.unwrap();
    let mut moved = m.clone();
    moved.thread_id = other.id.clone();
    assert!(matches!(
        s.save_messages(&alice(), vec![moved]).await,
        Err(MemoryError::IdTaken { kind: "Message" })
    ));
    // Saved again in its own thread, it is updated in place.
    let mut edited = m;
    edited.content = json!({"format": 2, "parts": [], "content": "edited"});
    let out = s.save_messages(&alice(), vec![edited]).await.unwrap();
    assert_eq!(out[0].seq, 0);
    let page = s
        .list_messages(&alice(), "chat-1", &all_messages())
        .await
        .unwrap();
    assert_eq!(texts(&page.items), ["edited"]);
}

async fn messages_page_in_append_order(f: Fixture) {
    let s = &f.store;
    let t = s
        .create_thread(&alice(), new_thread("alice", None))
        .await
        .unwrap();
    let batch: Vec<NewMessage> = (0..7)
        .map(|i| {
            text(
                &t.id,
                if i % 2 == 0 { "user" } else { "assistant" },
                &format!("m{i}"),
            )
        })
        .collect();
    let saved = s.save_messages(&alice(), batch).await.unwrap();
    assert_eq!(
        saved.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5, 6]
    );

    let page = |page, per_page, direction| MessageQuery {
        paging: Paging {
            page,
            per_page: Some(per_page),
        },
        direction,
    };
    let p0 = s
        .list_messages(&alice(), &t.id, &page(0, 3, Direction::Asc))
        .await
        .unwrap();
    assert_eq!(texts(&p0.items), ["m0", "m1", "m2"]);
    assert_eq!((p0.total, p0.has_more()), (7, true));
    let p2 = s
        .list_messages(&alice(), &t.id, &page(2, 3, Direction::Asc))
        .await
        .unwrap();
    assert_eq!(texts(&p2.items), ["m6"]);
    assert!(!p2.has_more());
    let newest = s
        .list_messages(&alice(), &t.id, &page(0, 2, Direction::Desc))
        .await
        .unwrap();
    assert_eq!(texts(&newest.items), ["m6", "m5"]);
    let beyond = s
        .list_messages(&alice(), &t.id, &page(9, 3, Direction::Asc))
        .await
        .unwrap();
    assert!(beyond.items.is_empty());
    assert_eq!(saved[1].role, "assistant");
    assert_eq!(saved[1].resource_id, "alice");
}

async fn last_messages_are_the_newest_oldest_first(f: Fixture) {
    let s = &f.store;
    let id = "remember-me";
    for i in 0..5 {
        s.append(
            &alice(),
            new_thread("alice", Some(id)),
            vec![
                text(id, "user", &format!("q{i}")),
                text(id, "assistant", &format!("a{i}")),
            ],
        )
        .await
        .unwrap();
    }
    let last = s.last_messages(&alice(), id, 3).await.unwrap();
    assert_eq!(texts(&last), ["a3", "q4", "a4"]);
    let all = s.last_messages(&alice(), id, 100).await.unwrap();
    assert_eq!(all.len(), 10);
    assert_eq!(
        s.list_threads(&alice(), &threads_of(None))
            .await
            .unwrap()
            .total,
        1
    );
}

async fn concurrent_appends_from_two_handles_keep_every_message_in_order(f: Fixture) {
    const WRITERS: usize = 8;
    const APPENDS: usize = 20;
    let id = "busy";
    let handles: [Arc<dyn MemoryStore>; 2] = [f.store.clone(), (f.reopen)()];
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = handles[w % 2].clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..APPENDS {
                store
                    .append(
                        &Scope::resource("alice"),
                        new_thread("alice", Some(id)),
                        vec![
                            text(id, "user", &format!("w{w}-{i}-q")),
                            text(id, "assistant", &format!("w{w}-{i}-a")),
                        ],
                    )
                    .await
                    .expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer task");
    }
    let page = f
        .store
        .list_messages(&alice(), id, &all_messages())
        .await
        .unwrap();
    let n = WRITERS * APPENDS * 2;
    assert_eq!(page.total as usize, n);
    // Positions are exactly 0..n: nothing lost, nothing numbered twice.
    let seqs: Vec<i64> = page.items.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (0..n as i64).collect::<Vec<_>>());
    // Each append's two messages are adjacent, and each writer's appends keep their order.
    let all = texts(&page.items);
    let mut next = BTreeMap::new();
    for pair in all.chunks(2) {
        let q = pair[0].strip_suffix("-q").expect("a question first");
        assert_eq!(pair[1], format!("{q}-a"), "an append was split: {pair:?}");
        let (w, i) = q.split_once('-').expect("w-i");
        let expected = next.entry(w.to_owned()).or_insert(0usize);
        assert_eq!(
            i.parse::<usize>().ok(),
            Some(*expected),
            "writer {w} out of order"
        );
        *expected += 1;
    }
    assert_eq!(next.len(), WRITERS);
}

async fn a_failed_write_leaves_nothing_behind(f: Fixture) {
    let s = &f.store;
    let t = s
        .create_thread(&alice(), new_thread("alice", None))
        .await
        .unwrap();
    // The second message is invalid: the first must not be stored either.
    let r = s
        .save_messages(
            &alice(),
            vec![text(&t.id, "user", "ok"), text(&t.id, "wizard", "bad")],
        )
        .await;
    assert!(matches!(r, Err(MemoryError::Invalid(_))), "{r:?}");
    assert_eq!(
        s.list_messages(&alice(), &t.id, &all_messages())
            .await
            .unwrap()
            .total,
        0
    );

    // An append that would create a thread and then fails creates no thread.
    let r = s
        .append(
            &alice(),
            new_thread("alice", Some("half")),
            vec![text("half", "user", "ok"), text("half", "wizard", "bad")],
        )
        .await;
    assert!(r.is_err());
    assert!(matches!(
        s.get_thread(&alice(), "half").await,
        Err(MemoryError::ThreadNotFound)
    ));
    // A batch naming a thread the caller cannot see stores nothing of the batch.
    let bobs = s
        .create_thread(&bob(), new_thread("bob", None))
        .await
        .unwrap();
    let r = s
        .save_messages(
            &alice(),
            vec![
                text(&t.id, "user", "mine"),
                text(&bobs.id, "user", "theirs"),
            ],
        )
        .await;
    assert!(matches!(r, Err(MemoryError::ThreadNotFound)));
    assert_eq!(
        s.list_messages(&alice(), &t.id, &all_messages())
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        s.list_messages(&bob(), &bobs.id, &all_messages())
            .await
            .unwrap()
            .total,
        0
    );
}

async fn clone_copies_messages_with_new_ids(f: Fixture) {
    let s = &f.store;
    let t = s
        .create_thread(&alice(), new_thread("alice", None))
        .await
        .unwrap();
    let originals = s
        .save_messages(
            &alice(),
            (0..4)
                .map(|i| text(&t.id, "user", &format!("c{i}")))
                .collect(),
        )
        .await
        .unwrap();
    let cloned = s
        .clone_thread(&alice(), &t.id, CloneThread::default())
        .await
        .unwrap();
    assert_ne!(cloned.thread.id, t.id);
    assert_eq!(cloned.thread.resource_id, "alice");
    assert_eq!(cloned.thread.title, None);
    let source_ids: Vec<&str> = originals.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(cloned.source_ids, source_ids);
    assert_eq!(texts(&cloned.messages), ["c0", "c1", "c2", "c3"]);
    assert!(
        cloned
            .messages
            .iter()
            .all(|m| originals.iter().all(|o| o.id != m.id))
    );
    assert!(
        cloned
            .messages
            .iter()
            .all(|m| m.thread_id == cloned.thread.id)
    );

    let limited = s
        .clone_thread(
            &alice(),
            &t.id,
            CloneThread {
                new_id: Some("copy-2".into()),
                title: Some("last two".into()),
                message_limit: Some(2),
                ..CloneThread::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(limited.thread.id, "copy-2");
    assert_eq!(texts(&limited.messages), ["c2", "c3"]);
    // The clone's id is taken now; cloning into another resource is refused.
    assert!(matches!(
        s.clone_thread(
            &alice(),
            &t.id,
            CloneThread {
                new_id: Some("copy-2".into()),
                ..CloneThread::default()
            }
        )
        .await,
        Err(MemoryError::IdTaken { .. })
    ));
    assert!(matches!(
        s.clone_thread(
            &alice(),
            &t.id,
            CloneThread {
                resource_id: Some("bob".into()),
                ..CloneThread::default()
            }
        )
        .await,
        Err(MemoryError::ForeignResource)
    ));
    // The source is unchanged.
    let page = s
        .list_messages(&alice(), &t.id, &all_messages())
        .await
        .unwrap();
    assert_eq!(page.items, originals);
}

async fn migrations_are_idempotent(f: Fixture) {
    assert_eq!(f.store.migrate().await.unwrap(), SCHEMA_VERSION);
    let again = (f.reopen)();
    assert_eq!(again.migrate().await.unwrap(), SCHEMA_VERSION);
    assert_eq!(again.migrate().await.unwrap(), SCHEMA_VERSION);
    let t = again
        .create_thread(&alice(), new_thread("alice", None))
        .await
        .unwrap();
    assert_eq!(f.store.get_thread(&alice(), &t.id).await.unwrap().id, t.id);
    assert!(matches!(f.store.backend(), "sqlite" | "postgres"));
}

async fn listing_pages_and_sorts(f: Fixture) {
    let s = &f.store;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut n = new_thread("alice", Some(&format!("t{i}")));
        n.metadata = Some(json!({"i": i}));
        ids.push(s.create_thread(&alice(), n).await.unwrap().id);
        // Distinct creation times, so the order is by time and not by the id tie-break.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    // Touch t0 last: by updated_at it comes first.
    s.update_thread(
        &alice(),
        "t0",
        ThreadPatch {
            title: Some("touched".into()),
            metadata: None,
        },
    )
    .await
    .unwrap();
    let q = |page, per_page, order, direction| ThreadQuery {
        resource_id: None,
        paging: Paging {
            page,
            per_page: Some(per_page),
        },
        order,
        direction,
    };
    let ids_of = |p: &mastra_memory::Page<mastra_memory::Thread>| {
        p.items.iter().map(|t| t.id.clone()).collect::<Vec<_>>()
    };
    let newest = s
        .list_threads(&alice(), &q(0, 2, ThreadOrder::CreatedAt, Direction::Desc))
        .await
        .unwrap();
    assert_eq!(ids_of(&newest), ["t4", "t3"]);
    assert_eq!((newest.total, newest.has_more()), (5, true));
    let oldest = s
        .list_threads(&alice(), &q(2, 2, ThreadOrder::CreatedAt, Direction::Asc))
        .await
        .unwrap();
    assert_eq!(ids_of(&oldest), ["t4"]);
    let touched = s
        .list_threads(&alice(), &q(0, 1, ThreadOrder::UpdatedAt, Direction::Desc))
        .await
        .unwrap();
    assert_eq!(ids_of(&touched), ["t0"]);
    assert_eq!(touched.items[0].metadata, Some(json!({"i": 0})));
    let _: Value = json!(null);
}
