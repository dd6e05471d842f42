//! Staged uploads (migration 0016_import_uploads): a file of any size (up
//! to [`MAX_UPLOAD_BYTES`]) comes in as chunks of at most 1 MiB, each its
//! own request and its own row, and is then read back a chunk at a time
//! ([`Reader`]) by the importer. The upload's row also carries its run's
//! progress ([`Progress`]), written on a connection of its own: the import
//! writes in one transaction, and others must see its progress meanwhile.
//!
//! An upload is its owner's only: to anyone else it is no upload (404).

use std::io::Read;

use mth_shared::body::{JsonObject, MAX_CHUNK_BYTES, from_string};
use mth_shared::db::{self, Db};
use mth_shared::time::Timestamp;
use mth_shared::{ApiError, FieldError};
use serde::Serialize;
use serde_json::Value;
use spin_sdk::pg4::{DbValue, ParameterValue};
use uuid::Uuid;

/// The largest file an upload takes (413 above).
pub const MAX_UPLOAD_BYTES: i64 = 512 * 1024 * 1024;

/// Uploads older than this are deleted when a new one is made: one left
/// behind (a closed tab) does not keep its chunks for ever.
const STALE_HOURS: i64 = 24;

/// Items written between two reports of progress: often enough to see it
/// move, rarely enough to cost nothing next to the import's own writes.
const REPORT_EVERY: i64 = 500;

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Our own export (`POST /import`'s body).
    Microtaskhub,
    /// A Trello board's JSON export.
    Trello,
}

impl Kind {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "microtaskhub" => Ok(Kind::Microtaskhub),
            "trello" => Ok(Kind::Trello),
            _ => Err("must be microtaskhub or trello".to_owned()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Microtaskhub => "microtaskhub",
            Kind::Trello => "trello",
        }
    }
}

/// The body of `POST /imports`.
#[derive(Debug)]
pub struct NewUpload {
    pub kind: Kind,
    pub size: i64,
}

fn size(value: &Value) -> Result<i64, String> {
    value
        .as_i64()
        .filter(|n| *n >= 0)
        .ok_or_else(|| "must be the file's size in bytes (0 or more)".to_owned())
}

impl NewUpload {
    pub fn parse(mut body: JsonObject) -> Result<Self, ApiError> {
        let kind = body.required("kind", from_string(Kind::parse));
        let size = body.required("size", size);
        let new = body.finish(|| Some((kind?, size?)))?;
        if new.1 > MAX_UPLOAD_BYTES {
            return Err(ApiError::new(
                413,
                format!(
                    "A file may be at most {} MiB; this one is {} bytes.",
                    MAX_UPLOAD_BYTES >> 20,
                    new.1
                ),
            ));
        }
        Ok(NewUpload {
            kind: new.0,
            size: new.1,
        })
    }
}

/// An upload as `/imports/{id}` shows it: what came in, and its run.
#[derive(Debug, Serialize)]
pub struct Upload {
    pub id: Uuid,
    pub kind: String,
    /// The declared size, and how many bytes the chunks hold so far.
    pub size: i64,
    pub received: i64,
    pub chunks: i64,
    /// receiving, checking, writing, done or failed.
    pub phase: String,
    /// What is being written (people, labels, tasks, comments, history).
    pub section: Option<String>,
    /// Items of `section` written (or read, while checking) so far.
    pub items: i64,
    /// The run's answer once it has one: its status and body (a summary, or
    /// the error with its `detail`).
    pub status: Option<i64>,
    pub result: Option<Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

struct Row {
    id: Uuid,
    kind: String,
    size: i64,
    received: i64,
    chunks: i64,
    phase: String,
    section: Option<String>,
    items_done: i64,
    status: Option<i64>,
    result: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

mth_shared::from_row!(Row {
    id,
    kind,
    size,
    received,
    chunks,
    phase,
    section,
    items_done,
    status,
    result,
    created_at,
    updated_at,
});

impl From<Row> for Upload {
    fn from(r: Row) -> Self {
        Upload {
            id: r.id,
            kind: r.kind,
            size: r.size,
            received: r.received,
            chunks: r.chunks,
            phase: r.phase,
            section: r.section,
            items: r.items_done,
            status: r.status,
            result: r.result.and_then(|text| serde_json::from_str(&text).ok()),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The columns of [`Row`], `u` being the upload.
const COLUMNS: &str = "u.id, u.kind, u.size, u.phase, u.section, u.items_done, u.status::bigint AS status, \
    u.result, u.created_at, u.updated_at, \
    (SELECT COALESCE(sum(octet_length(c.data)), 0)::bigint FROM import_chunks c \
       WHERE c.upload_id = u.id) AS received, \
    (SELECT count(*) FROM import_chunks c WHERE c.upload_id = u.id) AS chunks";

pub fn not_found(id: Uuid) -> ApiError {
    ApiError::not_found(format!("You have no upload with id {id}."))
}

/// A new upload of `owner`'s; stale uploads (anyone's) go first.
pub fn create(db: &Db, owner: Uuid, new: &NewUpload) -> Result<Upload, ApiError> {
    db.execute(
        "DELETE FROM import_uploads \
         WHERE created_at < (now() AT TIME ZONE 'utc') - make_interval(hours => $1::int)",
        &[i32::try_from(STALE_HOURS).unwrap_or(24).into()],
    )?;
    let rows = db.query(
        &format!(
            "WITH u AS (INSERT INTO import_uploads (owner_id, kind, size) VALUES ($1, $2, $3) \
               RETURNING *) SELECT {COLUMNS} FROM u"
        ),
        &[
            owner.into(),
            new.kind.as_str().to_owned().into(),
            new.size.into(),
        ],
    )?;
    Ok(db::first::<Row>(rows)?
        .ok_or_else(|| ApiError::internal("The insert returned no row."))?
        .into())
}

/// `owner`'s upload `id`; 404 when there is none (or it is another's).
pub fn find(db: &Db, owner: Uuid, id: Uuid) -> Result<Upload, ApiError> {
    let rows = db.query(
        &format!(
            "SELECT {COLUMNS} FROM import_uploads u \
             WHERE u.id = $1 AND (u.owner_id = $2 OR u.handed_to = $2)"
        ),
        &[id.into(), owner.into()],
    )?;
    Ok(db::first::<Row>(rows)?.ok_or_else(|| not_found(id))?.into())
}

/// Stores chunk `seq` of `owner`'s upload `id` (the same chunk again
/// replaces it): the upload as it is then. Refused: an upload no longer
/// receiving (409), and chunks holding more than the declared size (413).
pub fn put_chunk(
    db: &Db,
    owner: Uuid,
    id: Uuid,
    seq: i32,
    data: &[u8],
) -> Result<Upload, ApiError> {
    if data.len() > MAX_CHUNK_BYTES {
        return Err(ApiError::payload_too_large(MAX_CHUNK_BYTES));
    }
    // One statement: the upload is receiving and the chunks stay within
    // its size (the chunk it replaces not counted), or nothing is stored.
    let stored = db.execute(
        "INSERT INTO import_chunks (upload_id, seq, data) \
         SELECT u.id, $3::int, $4::bytea FROM import_uploads u \
         WHERE u.id = $1 AND u.owner_id = $2 AND u.phase = 'receiving' \
           AND (SELECT COALESCE(sum(octet_length(c.data)), 0) FROM import_chunks c \
                WHERE c.upload_id = u.id AND c.seq <> $3::int) + octet_length($4::bytea) \
               <= u.size \
         ON CONFLICT (upload_id, seq) DO UPDATE SET data = EXCLUDED.data",
        &[
            id.into(),
            owner.into(),
            seq.into(),
            ParameterValue::Binary(data.to_vec()),
        ],
    )?;
    let upload = find(db, owner, id)?;
    if stored == 0 {
        return Err(if upload.phase != "receiving" {
            ApiError::conflict(format!(
                "This upload is {} and takes no more chunks; make a new one.",
                upload.phase
            ))
        } else {
            ApiError::new(
                413,
                format!(
                    "With this chunk the upload would hold more than its declared size \
                     ({} bytes); nothing was stored.",
                    upload.size
                ),
            )
        });
    }
    touch(db, id)?;
    Ok(upload)
}

fn touch(db: &Db, id: Uuid) -> Result<(), ApiError> {
    db.execute(
        "UPDATE import_uploads SET updated_at = (now() AT TIME ZONE 'utc') WHERE id = $1",
        &[id.into()],
    )?;
    Ok(())
}

/// Deletes `owner`'s upload and its chunks; whether there was one.
pub fn delete(db: &Db, owner: Uuid, id: Uuid) -> Result<bool, ApiError> {
    Ok(db.execute(
        "DELETE FROM import_uploads WHERE id = $1 AND owner_id = $2",
        &[id.into(), owner.into()],
    )? > 0)
}

/// Checks that every chunk came (0 to n-1, the declared size in all):
/// 409 naming what is missing otherwise.
pub fn require_complete(upload: &Upload) -> Result<(), ApiError> {
    if upload.received == upload.size && upload.chunks > 0 || upload.size == 0 {
        return Ok(());
    }
    Err(ApiError::conflict(format!(
        "The upload is incomplete: {} of {} bytes in {} chunk(s) came; send the missing \
         chunks (PUT /imports/{}/chunks/{{n}}) first. Nothing was imported.",
        upload.received, upload.size, upload.chunks, upload.id
    )))
}

/// Moves `owner`'s receiving upload to `checking`: the one run it gets (a
/// second run, or one while it runs, is a 409). Complete: see
/// [`require_complete`]; the chunks are numbered from 0 without a gap.
pub fn start(db: &Db, owner: Uuid, id: Uuid, kind: Kind) -> Result<Upload, ApiError> {
    let upload = find(db, owner, id)?;
    if upload.kind != kind.as_str() {
        return Err(ApiError::conflict(format!(
            "This upload is a {} file, not a {} one.",
            upload.kind,
            kind.as_str()
        )));
    }
    if upload.phase != "receiving" {
        return Err(ApiError::conflict(format!(
            "This upload was run already (it is {}); make a new one to import again.",
            upload.phase
        )));
    }
    require_complete(&upload)?;
    let gapless = db::first::<Count>(db.query(
        "SELECT count(*) AS n FROM import_chunks WHERE upload_id = $1 AND seq >= $2",
        &[
            id.into(),
            i32::try_from(upload.chunks).unwrap_or(i32::MAX).into(),
        ],
    )?)?
    .is_none_or(|c| c.n == 0);
    if !gapless {
        return Err(ApiError::conflict(format!(
            "The upload is incomplete: its {} chunk(s) are not numbered 0 to {} (one is \
             missing); send the missing chunks first. Nothing was imported.",
            upload.chunks,
            upload.chunks - 1
        )));
    }
    let moved = db.execute(
        "UPDATE import_uploads SET phase = 'checking', section = NULL, items_done = 0, \
           updated_at = (now() AT TIME ZONE 'utc') \
         WHERE id = $1 AND owner_id = $2 AND phase = 'receiving'",
        &[id.into(), owner.into()],
    )?;
    if moved == 0 {
        return Err(ApiError::conflict(
            "This upload is being run already; follow it with GET /imports/{id}.",
        ));
    }
    Ok(upload)
}

struct Count {
    n: i64,
}
mth_shared::from_row!(Count { n });

/// Records the run's answer (`status`, `body`), moves the upload to `owner`
/// (an import of an export may have given the importer another id) and
/// deletes its chunks: they are not run twice.
///
/// The id the importer had keeps seeing the upload (`handed_to`): a request
/// whose session was read before the import committed carries that id and
/// may arrive after this, and must not find the upload gone (a progress
/// poll got a 404 that way). Nobody else can have that id: the import
/// deleted its person.
pub fn finish(db: &Db, id: Uuid, owner: Uuid, status: u16, body: &Value) -> Result<(), ApiError> {
    let phase = if status < 300 { "done" } else { "failed" };
    db.execute(
        "UPDATE import_uploads SET phase = $2, status = $3, result = $4, owner_id = $5, \
           handed_to = NULLIF(owner_id, $5), section = NULL, \
           updated_at = (now() AT TIME ZONE 'utc') WHERE id = $1",
        &[
            id.into(),
            phase.to_owned().into(),
            i32::from(status).into(),
            body.to_string().into(),
            owner.into(),
        ],
    )?;
    db.execute(
        "DELETE FROM import_chunks WHERE upload_id = $1",
        &[id.into()],
    )?;
    Ok(())
}

/// The staged chunks of upload `id`, read in order, one statement per
/// chunk: at most one chunk is in memory.
pub struct Chunks<'a> {
    db: &'a Db,
    id: Uuid,
    next: i32,
    chunk: Vec<u8>,
    at: usize,
    done: bool,
}

impl<'a> Chunks<'a> {
    pub fn new(db: &'a Db, id: Uuid) -> Self {
        Chunks {
            db,
            id,
            next: 0,
            chunk: Vec::new(),
            at: 0,
            done: false,
        }
    }

    /// The next chunk, or `None` after the last.
    fn fetch(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        let mut rows = self.db.query(
            "SELECT data FROM import_chunks WHERE upload_id = $1 AND seq = $2",
            &[self.id.into(), self.next.into()],
        )?;
        self.next += 1;
        Ok(rows.rows.pop().and_then(|mut row| match row.pop() {
            Some(DbValue::Binary(data)) => Some(data),
            _ => None,
        }))
    }
}

/// Where an import reads its file: a request's body, or staged chunks.
#[derive(Clone, Copy)]
pub enum Source<'b> {
    Body(&'b [u8]),
    Staged(Uuid),
}

impl<'b> Source<'b> {
    /// The file from its first byte, read on `db`.
    pub fn open<'a>(self, db: &'a Db) -> Reader<'a, 'b> {
        Reader {
            inner: match self {
                Source::Body(bytes) => Inner::Body(bytes),
                Source::Staged(id) => Inner::Staged(Chunks::new(db, id)),
            },
            failed: None,
        }
    }
}

enum Inner<'a, 'b> {
    Body(&'b [u8]),
    Staged(Chunks<'a>),
}

/// A [`Source`] as `std::io::Read`; a database failure is kept (as it was)
/// for [`Reader::take_error`].
pub struct Reader<'a, 'b> {
    inner: Inner<'a, 'b>,
    failed: Option<ApiError>,
}

impl Reader<'_, '_> {
    /// Why the last read failed, when the database was why.
    pub fn take_error(&mut self) -> Option<ApiError> {
        self.failed.take()
    }
}

impl Read for Reader<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let chunks = match &mut self.inner {
            Inner::Body(bytes) => return bytes.read(buf),
            Inner::Staged(chunks) => chunks,
        };
        while chunks.at == chunks.chunk.len() {
            if chunks.done {
                return Ok(0);
            }
            match chunks.fetch() {
                Ok(Some(data)) => {
                    chunks.chunk = data;
                    chunks.at = 0;
                }
                Ok(None) => chunks.done = true,
                Err(e) => {
                    self.failed = Some(e);
                    return Err(std::io::Error::other("the staged upload could not be read"));
                }
            }
        }
        let n = buf.len().min(chunks.chunk.len() - chunks.at);
        buf[..n].copy_from_slice(&chunks.chunk[chunks.at..chunks.at + n]);
        chunks.at += n;
        Ok(n)
    }
}

/// The progress of a run, written to its upload's row on a connection of
/// its own (outside the import's transaction); nothing for an import
/// without an upload (the one-request routes).
pub struct Progress {
    to: Option<(Db, Uuid)>,
    section: &'static str,
    items: i64,
    reported: i64,
}

impl Progress {
    pub fn none() -> Self {
        Progress {
            to: None,
            section: "",
            items: 0,
            reported: 0,
        }
    }

    /// Progress of upload `id`, on a new connection.
    pub fn of(id: Uuid) -> Result<Self, ApiError> {
        Ok(Progress {
            to: Some((Db::connect()?, id)),
            ..Progress::none()
        })
    }

    /// The run is now at `phase` (checking, writing), on `section`.
    pub fn phase(&mut self, phase: &str, section: &'static str) {
        self.section = section;
        self.items = 0;
        self.reported = 0;
        self.report(phase);
    }

    /// One more item of the section done.
    pub fn item(&mut self, phase: &str) {
        self.items += 1;
        if self.items - self.reported >= REPORT_EVERY {
            self.report(phase);
        }
    }

    fn report(&mut self, phase: &str) {
        let Some((db, id)) = &self.to else { return };
        self.reported = self.items;
        // Progress is for people watching: a failure to report it must not
        // fail the import, which the answer reports anyway.
        let _ = db.execute(
            "UPDATE import_uploads SET phase = $2, section = $3, items_done = $4, \
               updated_at = (now() AT TIME ZONE 'utc') WHERE id = $1",
            &[
                (*id).into(),
                phase.to_owned().into(),
                match self.section {
                    "" => ParameterValue::DbNull,
                    section => ParameterValue::Str(section.to_owned()),
                },
                self.items.into(),
            ],
        );
    }

    /// The importer becomes person `to` when the import commits: until the
    /// run is over, either may see the upload.
    pub fn handed_over(&self, to: Uuid) -> Result<(), ApiError> {
        if let Some((db, id)) = &self.to {
            db.execute(
                "UPDATE import_uploads SET handed_to = $2 WHERE id = $1",
                &[(*id).into(), to.into()],
            )?;
        }
        Ok(())
    }

    /// Records the run's answer (see [`finish`]), when there is an upload.
    pub fn finish(self, owner: Uuid, status: u16, body: &Value) -> Result<(), ApiError> {
        match &self.to {
            Some((db, id)) => finish(db, *id, owner, status, body),
            None => Ok(()),
        }
    }
}

/// A refused chunk number: 422 like any other field of the request.
pub fn chunk_number(raw: &str) -> Result<i32, ApiError> {
    raw.parse::<i32>().ok().filter(|n| *n >= 0).ok_or_else(|| {
        ApiError::validation(vec![FieldError::new(
            "n",
            "must be the chunk's number: 0, 1, 2…",
        )])
    })
}
