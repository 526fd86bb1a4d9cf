//! The simulator's in-memory world: sessions, videos, assets, webhook endpoints and events.
//!
//! Statuses are computed from the simulated time elapsed since each step began, so reads need
//! no background work; a ticker only delivers webhooks when something finishes.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{json, Value};

use super::SimulatorConfig;

/// Simulated seconds a session "thinks" before rendering starts.
pub(crate) const THINKING_SECONDS: f64 = 5.0;
/// Simulated seconds a video waits in `pending`.
pub(crate) const PENDING_SECONDS: f64 = 2.0;
/// Prompt marker that makes the render fail.
pub(crate) const FAIL_RENDER: &str = "[fail:render]";
/// Prompt marker that makes the session fail before rendering.
pub(crate) const FAIL_SESSION: &str = "[fail:session]";

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) prompt: String,
    pub(crate) chat: bool,
    pub(crate) created: Instant,
    pub(crate) created_unix: u64,
    pub(crate) title: String,
    /// When rendering was requested (creation + thinking, or the approving message).
    pub(crate) render_from: Option<Instant>,
    pub(crate) video_id: Option<String>,
    pub(crate) stopped: bool,
    pub(crate) callback_url: Option<String>,
    pub(crate) callback_id: Option<String>,
    pub(crate) messages: Vec<Value>,
    pub(crate) notified: bool,
    /// Rounds of feedback on the storyboard so far (chat mode).
    pub(crate) revisions: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Video {
    pub(crate) id: String,
    pub(crate) session_id: Option<String>,
    pub(crate) title: String,
    pub(crate) started: Instant,
    pub(crate) created_unix: u64,
    pub(crate) fail: bool,
    /// Whether its rendered seconds were taken from the balance.
    pub(crate) charged: bool,
    /// Where its one-off notification goes (videos made directly).
    pub(crate) callback_url: Option<String>,
    pub(crate) callback_id: Option<String>,
    /// Whether its end was announced (a session's video is announced by its session).
    pub(crate) notified: bool,
}

/// The families whose jobs the simulator runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Translation,
    Proofread,
    Lipsync,
    Clipping,
    BackgroundRemoval,
    Avatar,
    Voice,
}

impl Family {
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Family::Translation => "vt",
            Family::Proofread => "pr",
            Family::Lipsync => "ls",
            Family::Clipping => "clip",
            Family::BackgroundRemoval => "bgr",
            Family::Avatar => "avg",
            Family::Voice => "vc",
        }
    }

    pub(crate) fn noun(self) -> &'static str {
        match self {
            Family::Translation => "Video translation",
            Family::Proofread => "Proofread",
            Family::Lipsync => "Lipsync",
            Family::Clipping => "Clipping job",
            Family::BackgroundRemoval => "Background removal",
            Family::Avatar => "Avatar group",
            Family::Voice => "Voice",
        }
    }
}

/// One job of a family.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) family: Family,
    pub(crate) title: String,
    /// When it started running (for an avatar waiting for consent: when consent came).
    pub(crate) started: Option<Instant>,
    pub(crate) created_unix: u64,
    pub(crate) fail: bool,
    pub(crate) charged: bool,
    pub(crate) notified: bool,
    pub(crate) callback_url: Option<String>,
    pub(crate) callback_id: Option<String>,
    /// Facts of its request the answers repeat (languages, the avatar's kind, ...).
    pub(crate) facts: Value,
}

/// One job of a kind simulated from its description alone (`described.rs`).
#[derive(Debug, Clone)]
pub(crate) struct DescribedJob {
    pub(crate) kind: crate::api::kinds::JobKind,
    pub(crate) started: Instant,
    pub(crate) fail: bool,
}

/// A batch of translations or lip-syncs: its items in order.
#[derive(Debug, Clone)]
pub(crate) struct JobBatch {
    pub(crate) title: Option<String>,
    pub(crate) created_unix: u64,
    pub(crate) job_ids: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Asset {
    pub(crate) name: String,
    pub(crate) mime_type: String,
    pub(crate) uploaded_unix: u64,
    pub(crate) bytes: bytes::Bytes,
}

#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) events: Option<Vec<String>>,
    pub(crate) entity_id: Option<String>,
    pub(crate) secret: String,
    pub(crate) created_at: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) id: String,
    pub(crate) event_type: String,
    pub(crate) data: Value,
    pub(crate) created_at: String,
    pub(crate) entity_id: Option<String>,
}

/// Phase of a session at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionPhase {
    Thinking,
    Reviewing,
    Generating,
    Completed,
    Failed,
}

/// Phase of a video at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VideoPhase {
    Pending,
    Processing(u8),
    Completed,
    Failed,
}

/// The sessions, videos and family jobs that can still change without a request: not yet
/// ended, charged (when they completed) and announced. Advancing the world, counting the jobs
/// in flight and the webhook ticker look at these alone, so that a request costs what the
/// jobs in flight cost, however many jobs the simulator remembers.
#[derive(Debug, Default)]
pub(crate) struct Unsettled {
    pub(crate) sessions: std::collections::BTreeSet<String>,
    pub(crate) videos: std::collections::BTreeSet<String>,
    pub(crate) jobs: std::collections::BTreeSet<String>,
}

/// How long HeyGen replays the answer to an `Idempotency-Key` (24 hours), in simulated
/// seconds.
pub(crate) const IDEMPOTENCY_WINDOW_SECONDS: f64 = 24.0 * 3600.0;

/// The answers to `Idempotency-Key`s, oldest first, forgotten once their window has passed: a
/// campaign holds the answers of the last 24 simulated hours, not of every create it made.
#[derive(Debug, Default)]
pub(crate) struct Remembered {
    answers: std::collections::HashMap<String, Value>,
    /// Keys in the order they were stored, with when.
    order: std::collections::VecDeque<(Instant, String)>,
}

impl Remembered {
    /// The answer stored under `key`, unless [`expire`](Self::expire) has forgotten it.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.answers.get(key)
    }

    /// Stores an answer under `key`, at `now`.
    pub(crate) fn insert(&mut self, key: String, answer: Value, now: Instant) {
        if self.answers.insert(key.clone(), answer).is_none() {
            self.order.push_back((now, key));
        }
    }

    /// Forgets the answers stored more than the window before `now`; `elapsed` is the
    /// simulator's measure of time (simulated seconds since a moment).
    pub(crate) fn expire(&mut self, elapsed: impl Fn(Instant) -> f64) {
        while let Some((stored, _)) = self.order.front() {
            if elapsed(*stored) < IDEMPOTENCY_WINDOW_SECONDS {
                break;
            }
            if let Some((_, key)) = self.order.pop_front() {
                self.answers.remove(&key);
            }
        }
    }
}

pub(crate) struct World {
    pub(crate) config: SimulatorConfig,
    /// Draws for ids. Secrets and faults draw from streams of their own, so that how far
    /// jobs moved on between two requests (the wall clock's doing) changes neither.
    pub(crate) rng: fastrand::Rng,
    secrets: fastrand::Rng,
    pub(crate) faults: fastrand::Rng,
    pub(crate) counter: u64,
    pub(crate) requests: u64,
    pub(crate) sessions: BTreeMap<String, Session>,
    pub(crate) videos: BTreeMap<String, Video>,
    /// Each session's videos, oldest first (a deleted one stays named here, and is skipped).
    pub(crate) session_videos: std::collections::HashMap<String, Vec<String>>,
    /// What may still change by itself (see [`Unsettled`]); every session, video and job is
    /// added through [`World::add_session`], [`World::add_video`] and the families' `new_job`.
    pub(crate) unsettled: Unsettled,
    pub(crate) deleted_videos: std::collections::BTreeSet<String>,
    pub(crate) assets: BTreeMap<String, Asset>,
    pub(crate) endpoints: BTreeMap<String, Endpoint>,
    pub(crate) events: Vec<Event>,
    /// Answers stored under `Idempotency-Key`s, replayed on repeats within 24 hours.
    pub(crate) idempotency: Remembered,
    /// US dollars spent on rendered seconds.
    pub(crate) spent_usd: f64,
    /// Video batches: their videos, in item order.
    pub(crate) batches: BTreeMap<String, Batch>,
    /// Direct uploads waiting for their bytes or their completion.
    pub(crate) uploads: BTreeMap<String, PendingUpload>,
    /// Batches of direct uploads, by batch id.
    pub(crate) asset_batches: BTreeMap<String, AssetBatch>,
    /// The most jobs that were ever in flight at once.
    pub(crate) peak_jobs: usize,
    /// Creates refused with 429 because the concurrency limit was reached.
    pub(crate) refused_at_capacity: u64,
    /// Presigned PUTs answered so far (for `fail_first_upload`).
    pub(crate) puts: u64,
    /// Jobs of the other families (translations, lip-syncs, ...), by id.
    pub(crate) jobs: BTreeMap<String, Job>,
    /// Batches of translations or lip-syncs, by batch id.
    pub(crate) job_batches: BTreeMap<String, JobBatch>,
    /// Background removals by the `request_id` that started them.
    pub(crate) background_requests: std::collections::HashMap<String, String>,
    /// Generated speech, by request id: its length in seconds.
    pub(crate) speeches: std::collections::HashMap<String, f64>,
    /// Jobs of the kinds simulated from their description alone, by id.
    pub(crate) described: BTreeMap<String, DescribedJob>,
    /// How far the clock was moved on by hand ([`RunningSimulator::advance`]).
    ///
    /// [`RunningSimulator::advance`]: super::RunningSimulator::advance
    pub(crate) skew: std::time::Duration,
}

#[derive(Debug, Clone)]
pub(crate) struct PendingUpload {
    pub(crate) name: String,
    pub(crate) content_type: String,
    pub(crate) size: u64,
    pub(crate) checksum: Option<String>,
    pub(crate) token: String,
    pub(crate) expires: Instant,
    /// The SHA-256 of the bytes received, once a PUT delivered all of them.
    pub(crate) received: Option<String>,
}

/// A batch of direct uploads: its assets in order, and whether it was completed.
#[derive(Debug, Clone)]
pub(crate) struct AssetBatch {
    pub(crate) created_unix: u64,
    pub(crate) asset_ids: Vec<String>,
    pub(crate) completed: bool,
    pub(crate) title: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Batch {
    pub(crate) title: Option<String>,
    pub(crate) created_unix: u64,
    pub(crate) video_ids: Vec<String>,
}

impl World {
    pub(crate) fn new(config: SimulatorConfig) -> Self {
        World {
            rng: fastrand::Rng::with_seed(config.seed),
            unsettled: Unsettled::default(),
            secrets: fastrand::Rng::with_seed(config.seed ^ 0x5ec2_e75e_c2e7_5ec2),
            faults: fastrand::Rng::with_seed(config.seed ^ 0xfa17_fa17_fa17_fa17),
            config,
            counter: 0,
            requests: 0,
            sessions: BTreeMap::new(),
            spent_usd: 0.0,
            batches: BTreeMap::new(),
            uploads: BTreeMap::new(),
            asset_batches: BTreeMap::new(),
            peak_jobs: 0,
            refused_at_capacity: 0,
            puts: 0,
            jobs: BTreeMap::new(),
            job_batches: BTreeMap::new(),
            background_requests: Default::default(),
            speeches: Default::default(),
            videos: BTreeMap::new(),
            session_videos: Default::default(),
            deleted_videos: Default::default(),
            assets: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            events: Vec::new(),
            idempotency: Default::default(),
            described: BTreeMap::new(),
            skew: std::time::Duration::ZERO,
        }
    }

    /// A fresh identifier with a prefix; ids sort by creation.
    pub(crate) fn id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        let salt = self.rng.u32(..);
        format!("{prefix}_{:06}{salt:08x}", self.counter)
    }

    pub(crate) fn secret(&mut self) -> String {
        // Byte by byte: the same seed gives the same secret on any host.
        let bytes: [u8; 24] = std::array::from_fn(|_| self.secrets.u8(..));
        format!("whsec_{}", hex::encode(bytes))
    }

    /// The simulator's clock: the wall clock, plus how far tests moved it on.
    pub(crate) fn now(&self) -> Instant {
        Instant::now() + self.skew
    }

    /// Simulated seconds since `start` (a moment of [`now`](Self::now)).
    pub(crate) fn elapsed(&self, start: Instant) -> f64 {
        self.now().saturating_duration_since(start).as_secs_f64() * self.config.time_scale
    }

    pub(crate) fn session_phase(&self, session: &Session) -> SessionPhase {
        if session.prompt.contains(FAIL_SESSION) {
            return if self.elapsed(session.created) < THINKING_SECONDS {
                SessionPhase::Thinking
            } else {
                SessionPhase::Failed
            };
        }
        if session.stopped && session.video_id.is_none() {
            return SessionPhase::Failed;
        }
        match &session.video_id {
            Some(video_id) => match self.videos.get(video_id).map(|v| self.video_phase(v)) {
                Some(VideoPhase::Completed) => SessionPhase::Completed,
                Some(VideoPhase::Failed) => SessionPhase::Failed,
                _ => SessionPhase::Generating,
            },
            None if session.chat && session.render_from.is_none() => {
                if self.elapsed(session.created) < THINKING_SECONDS {
                    SessionPhase::Thinking
                } else {
                    SessionPhase::Reviewing
                }
            }
            None => SessionPhase::Thinking,
        }
    }

    pub(crate) fn video_phase(&self, video: &Video) -> VideoPhase {
        let t = self.elapsed(video.started);
        let render = self.config.render_seconds.max(PENDING_SECONDS + 0.001);
        if t < PENDING_SECONDS {
            VideoPhase::Pending
        } else if t < render {
            VideoPhase::Processing(
                (((t - PENDING_SECONDS) / (render - PENDING_SECONDS)) * 100.0) as u8,
            )
        } else if video.fail {
            VideoPhase::Failed
        } else {
            VideoPhase::Completed
        }
    }

    /// A new session, watched until it settles.
    pub(crate) fn add_session(&mut self, session: Session) {
        self.unsettled.sessions.insert(session.id.clone());
        self.sessions.insert(session.id.clone(), session);
    }

    /// A new video, watched until it settles.
    pub(crate) fn add_video(&mut self, video: Video) {
        self.unsettled.videos.insert(video.id.clone());
        if let Some(session) = &video.session_id {
            self.session_videos
                .entry(session.clone())
                .or_default()
                .push(video.id.clone());
        }
        self.videos.insert(video.id.clone(), video);
    }

    /// Stops watching what can no longer change by itself: a session once announced, a video
    /// once announced and charged (or failed), a family job the same.
    pub(crate) fn settle(&mut self) {
        let sessions = &self.sessions;
        self.unsettled
            .sessions
            .retain(|id| sessions.get(id).is_some_and(|s| !s.notified));
        let videos: Vec<String> = self
            .unsettled
            .videos
            .iter()
            .filter(|id| {
                self.videos.get(*id).is_none_or(|v| {
                    v.notified && (v.charged || self.video_phase(v) == VideoPhase::Failed)
                })
            })
            .cloned()
            .collect();
        for id in videos {
            self.unsettled.videos.remove(&id);
        }
        let jobs: Vec<String> = self
            .unsettled
            .jobs
            .iter()
            .filter(|id| self.jobs.get(*id).is_none_or(|j| self.job_settled(j)))
            .cloned()
            .collect();
        for id in jobs {
            self.unsettled.jobs.remove(&id);
        }
    }

    /// The sessions that can still change by themselves.
    pub(crate) fn unsettled_sessions(&self) -> impl Iterator<Item = &Session> {
        self.unsettled
            .sessions
            .iter()
            .filter_map(|id| self.sessions.get(id))
    }

    /// The videos that can still change by themselves.
    pub(crate) fn unsettled_videos(&self) -> impl Iterator<Item = &Video> {
        self.unsettled
            .videos
            .iter()
            .filter_map(|id| self.videos.get(id))
    }

    /// Starts rendering for sessions whose thinking is over (generate mode) or which were
    /// approved (chat mode).
    pub(crate) fn advance(&mut self) {
        let due: Vec<String> = self
            .unsettled_sessions()
            .filter(|s| s.video_id.is_none() && !s.stopped && !s.prompt.contains(FAIL_SESSION))
            .filter(|s| match s.render_from {
                Some(at) => self.elapsed(at) >= 0.0,
                None => !s.chat && self.elapsed(s.created) >= THINKING_SECONDS,
            })
            .map(|s| s.id.clone())
            .collect();
        for session_id in due {
            let video_id = self.id("vid");
            let Some(session) = self.sessions.get(&session_id) else {
                continue;
            };
            let started = session
                .render_from
                .unwrap_or_else(|| session.created + self.real(THINKING_SECONDS));
            let video = Video {
                id: video_id.clone(),
                session_id: Some(session_id.clone()),
                title: session.title.clone(),
                started,
                created_unix: super::unix_now(),
                fail: session.prompt.contains(FAIL_RENDER),
                charged: false,
                callback_url: None,
                callback_id: None,
                notified: true,
            };
            self.add_video(video);
            if let Some(session) = self.sessions.get_mut(&session_id) {
                session.video_id = Some(video_id);
            }
        }
        self.charge_completed();
        self.charge_finished_jobs();
        self.settle();
    }

    /// A video's status in the bulk vocabulary (`queued`, not `pending`).
    pub(crate) fn bulk_status(&self, video: &Video) -> &'static str {
        match self.video_phase(video) {
            VideoPhase::Pending => "queued",
            VideoPhase::Processing(_) => "processing",
            VideoPhase::Completed => "completed",
            VideoPhase::Failed => "failed",
        }
    }

    /// What one finished video costs: its rendered seconds at the configured rate.
    pub(crate) fn video_cost(&self) -> f64 {
        super::media::DURATION_SECONDS * self.config.usd_per_second
    }

    /// Takes the rendered seconds of newly completed videos from the balance.
    fn charge_completed(&mut self) {
        let done: Vec<String> = self
            .unsettled_videos()
            .filter(|v| !v.charged && self.video_phase(v) == VideoPhase::Completed)
            .map(|v| v.id.clone())
            .collect();
        let cost = self.video_cost();
        for id in done {
            if let Some(video) = self.videos.get_mut(&id) {
                video.charged = true;
                self.spent_usd += cost;
            }
        }
    }

    /// What is left of the balance.
    pub(crate) fn balance_usd(&self) -> f64 {
        (self.config.balance_usd - self.spent_usd).max(0.0)
    }

    /// Whether one more render can be paid for, counting the renders already in flight.
    pub(crate) fn can_afford_a_render(&self) -> bool {
        let reserved = self.jobs_in_flight() as f64 * self.video_cost();
        self.balance_usd() - reserved >= self.video_cost() - 1e-9
    }

    /// Jobs in flight: sessions thinking or generating (with their video), videos made
    /// directly that are still rendering.
    pub(crate) fn jobs_in_flight(&self) -> usize {
        let sessions = self
            .unsettled_sessions()
            .filter(|s| !s.stopped)
            .filter(|s| {
                matches!(
                    self.session_phase(s),
                    SessionPhase::Thinking | SessionPhase::Generating
                )
            })
            .count();
        let videos = self
            .unsettled_videos()
            .filter(|v| v.session_id.is_none())
            .filter(|v| {
                matches!(
                    self.video_phase(v),
                    VideoPhase::Pending | VideoPhase::Processing(_)
                )
            })
            .count();
        sessions + videos + self.family_jobs_in_flight()
    }

    /// Real time for a number of simulated seconds.
    pub(crate) fn real(&self, simulated: f64) -> std::time::Duration {
        std::time::Duration::from_secs_f64((simulated / self.config.time_scale).max(0.0))
    }

    pub(crate) fn base(&self) -> &str {
        &self.config.base_url
    }

    pub(crate) fn session_json(&self, session: &Session) -> Value {
        let phase = self.session_phase(session);
        let status = match phase {
            SessionPhase::Thinking if self.config.unknown_statuses => "pondering",
            SessionPhase::Thinking => "thinking",
            SessionPhase::Reviewing => "reviewing",
            SessionPhase::Generating => "generating",
            SessionPhase::Completed => "completed",
            SessionPhase::Failed => "failed",
        };
        let progress = match (
            phase,
            session.video_id.as_ref().and_then(|v| self.videos.get(v)),
        ) {
            (SessionPhase::Completed, _) => 100,
            (SessionPhase::Generating, Some(video)) => match self.video_phase(video) {
                VideoPhase::Processing(p) => 40 + i64::from(p) * 60 / 100,
                _ => 40,
            },
            (SessionPhase::Reviewing, _) => 30,
            _ => ((self.elapsed(session.created) / THINKING_SECONDS).min(1.0) * 30.0) as i64,
        };
        let mut messages = session.messages.clone();
        if phase == SessionPhase::Failed {
            let video_failed = session.video_id.is_some();
            let text = if video_failed {
                "Rendering failed: Avatar rendering timed out."
            } else if session.stopped {
                "Session stopped by request."
            } else {
                "The agent could not plan this video: the requested avatar is not available."
            };
            messages.insert(0, json!({"role": "model", "content": text, "type": "error", "resource_ids": null, "created_at": super::unix_now()}));
        }
        if phase == SessionPhase::Reviewing && session.revisions == 0 {
            messages.insert(0, json!({"role": "model", "content": "Here is the storyboard: 4 scenes, 30 seconds. Reply to approve or request changes.", "type": "resource", "resource_ids": ["res_storyboard"], "created_at": session.created_unix}));
        }
        messages.truncate(40);
        json!({
            "session_id": session.id,
            "status": status,
            "progress": progress,
            "title": session.title,
            "video_id": session.video_id,
            "created_at": session.created_unix,
            "messages": messages,
        })
    }

    pub(crate) fn create_status(&self, session: &Session) -> &'static str {
        match self.session_phase(session) {
            SessionPhase::Generating => "generating",
            SessionPhase::Completed => "completed",
            SessionPhase::Failed => "failed",
            SessionPhase::Thinking | SessionPhase::Reviewing => "thinking",
        }
    }

    pub(crate) fn video_json(&self, video: &Video) -> Value {
        let base = self.base();
        let phase = self.video_phase(video);
        let status = match phase {
            VideoPhase::Pending if self.config.unknown_statuses => "queued",
            VideoPhase::Pending => "pending",
            VideoPhase::Processing(_) => "processing",
            VideoPhase::Completed => "completed",
            VideoPhase::Failed => "failed",
        };
        let done = phase == VideoPhase::Completed;
        let file = |suffix: &str| done.then(|| format!("{base}/files/{}{suffix}", video.id));
        json!({
            "id": video.id,
            "title": video.title,
            "status": status,
            "created_at": video.created_unix,
            "completed_at": done.then(super::unix_now),
            "video_url": file(".mp4"),
            "thumbnail_url": file(".jpg"),
            "gif_url": null,
            "captioned_video_url": file("_captioned.mp4"),
            "subtitle_url": file(".srt"),
            "duration": done.then_some(super::media::DURATION_SECONDS),
            "folder_id": null,
            "output_language": null,
            "failure_code": (phase == VideoPhase::Failed).then_some("rendering_failed"),
            "failure_message": (phase == VideoPhase::Failed).then_some("Avatar rendering timed out"),
            "video_page_url": format!("{base}/videos/{}", video.id),
        })
    }
}
