//! Reading the ledger: lists, the most recent unfinished job, a job by id, identical inputs,
//! a batch's jobs.

use std::path::PathBuf;
use std::time::SystemTime;

use rusqlite::{Connection, Row, params_from_iter, types::Value as Sql};

use crate::entry::{BatchRef, Filter, JobEntry, JobKey, JobState, from_millis, to_millis};

const COLUMNS: &str = "key, origin, model, base_url, input_digest, created_at, request_id, state,
    updated_at, output_path, saved_path, saved_bytes, cost_usd, error, batch_journal, batch_job";

fn entry(row: &Row<'_>) -> rusqlite::Result<JobEntry> {
    let state: String = row.get(7)?;
    let request_id: Option<String> = row.get(6)?;
    let saved_path: Option<String> = row.get(10)?;
    let saved_bytes: Option<i64> = row.get(11)?;
    let journal: Option<String> = row.get(14)?;
    let job: Option<String> = row.get(15)?;
    Ok(JobEntry {
        key: JobKey::from_db(row.get(0)?),
        origin: row.get(1)?,
        model: row.get(2)?,
        base_url: row.get(3)?,
        input_digest: row.get(4)?,
        created_at: from_millis(row.get(5)?),
        // A state written by a newer version reads as "has an id, not finished": follow it.
        state: JobState::parse(&state).unwrap_or(if request_id.is_some() {
            JobState::Submitted
        } else {
            JobState::OutcomeUnknown
        }),
        request_id,
        updated_at: from_millis(row.get(8)?),
        output: row.get::<_, Option<String>>(9)?.map(PathBuf::from),
        saved: saved_path.map(|p| (PathBuf::from(p), saved_bytes.unwrap_or(0).max(0) as u64)),
        cost_usd: row.get(12)?,
        error: row.get(13)?,
        batch: journal
            .zip(job)
            .map(|(journal, job)| BatchRef { journal, job }),
    })
}

fn select(db: &Connection, tail: &str, args: Vec<Sql>) -> rusqlite::Result<Vec<JobEntry>> {
    let sql = format!("SELECT {COLUMNS} FROM jobs {tail}");
    let mut statement = db.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(args), entry)?;
    rows.collect()
}

pub(crate) fn jobs(db: &Connection, filter: &Filter) -> rusqlite::Result<Vec<JobEntry>> {
    let mut clauses = Vec::new();
    let mut args = Vec::new();
    if !filter.states.is_empty() {
        let marks = vec!["?"; filter.states.len()].join(", ");
        clauses.push(format!("state IN ({marks})"));
        args.extend(filter.states.iter().map(|s| Sql::Text(s.as_str().into())));
    }
    if let Some(since) = filter.since {
        clauses.push("created_at >= ?".into());
        args.push(Sql::Integer(to_millis(since)));
    }
    if let Some(base_url) = &filter.base_url {
        clauses.push("base_url = ?".into());
        args.push(Sql::Text(base_url.clone()));
    }
    let mut tail = String::new();
    if !clauses.is_empty() {
        tail = format!("WHERE {}", clauses.join(" AND "));
    }
    tail.push_str(" ORDER BY created_at DESC, rowid DESC");
    if let Some(limit) = filter.limit {
        tail.push_str(&format!(" LIMIT {limit}"));
    }
    select(db, &tail, args)
}

pub(crate) fn by_request_id(
    db: &Connection,
    base_url: Option<&str>,
    request_id: &str,
) -> rusqlite::Result<Option<JobEntry>> {
    let mut args = vec![Sql::Text(request_id.into())];
    let mut tail = "WHERE request_id = ?".to_owned();
    if let Some(base_url) = base_url {
        tail.push_str(" AND base_url = ?");
        args.push(Sql::Text(base_url.into()));
    }
    tail.push_str(" ORDER BY created_at DESC, rowid DESC LIMIT 1");
    Ok(select(db, &tail, args)?.into_iter().next())
}

pub(crate) fn by_key(db: &Connection, key: &JobKey) -> rusqlite::Result<Option<JobEntry>> {
    Ok(
        select(db, "WHERE key = ?", vec![Sql::Text(key.as_str().into())])?
            .into_iter()
            .next(),
    )
}

pub(crate) fn last_unfinished(
    db: &Connection,
    base_url: &str,
) -> rusqlite::Result<Option<JobEntry>> {
    // Unfinished: see `JobEntry::is_unfinished`, written here as SQL.
    let tail = "WHERE base_url = ? AND request_id IS NOT NULL
        AND (state IN ('submitted', 'queued', 'running')
             OR (state = 'succeeded' AND output_path IS NOT NULL AND saved_path IS NULL))
        ORDER BY created_at DESC, rowid DESC LIMIT 1";
    Ok(select(db, tail, vec![Sql::Text(base_url.into())])?
        .into_iter()
        .next())
}

pub(crate) fn identical(
    db: &Connection,
    base_url: &str,
    model: &str,
    digest: &str,
    since: SystemTime,
) -> rusqlite::Result<Vec<JobEntry>> {
    let tail = "WHERE input_digest = ? AND model = ? AND base_url = ? AND created_at >= ?
        ORDER BY created_at DESC, rowid DESC";
    select(
        db,
        tail,
        vec![
            Sql::Text(digest.into()),
            Sql::Text(model.into()),
            Sql::Text(base_url.into()),
            Sql::Integer(to_millis(since)),
        ],
    )
}

pub(crate) fn batch(db: &Connection, journal: &str) -> rusqlite::Result<Vec<JobEntry>> {
    select(
        db,
        "WHERE batch_journal = ? ORDER BY created_at ASC, rowid ASC",
        vec![Sql::Text(journal.into())],
    )
}
