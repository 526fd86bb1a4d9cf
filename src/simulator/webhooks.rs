//! Webhook deliveries: when a session finishes or fails, its event is POSTed to the request's
//! `callback_url` (unsigned, as per-request callbacks are) and to every registered endpoint
//! that subscribes to it (signed with the endpoint's secret, as HeyGen signs), retrying failed
//! deliveries with the same event id.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::state::{Event, SessionPhase, VideoPhase, World};
use super::Shared;
use crate::api::error::{Error, Result};
use crate::api::webhook;

/// How often the ticker looks for finished sessions.
const TICK: Duration = Duration::from_millis(20);

pub(crate) fn delivery_client() -> Result<reqwest::Client> {
    crate::api::client::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent("heygen-simulator-webhooks")
        .build()
        .map_err(|source| Error::Transport {
            operation: "simulator_webhooks",
            source,
            repeatable: false,
        })
}

/// One delivery to make.
struct Delivery {
    url: String,
    body: Vec<u8>,
    event_id: String,
    secret: Option<String>,
    attempts: u32,
}

pub(crate) async fn ticker(shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(TICK).await;
        for delivery in due(&shared) {
            tokio::spawn(deliver(shared.http.clone(), delivery));
        }
    }
}

/// Records the events of newly finished sessions and lists their deliveries.
fn due(shared: &Shared) -> Vec<Delivery> {
    let mut world = shared.world();
    world.advance();
    let finished: Vec<(String, SessionPhase)> = world
        .unsettled_sessions()
        .filter(|s| !s.notified)
        .map(|s| (s.id.clone(), world.session_phase(s)))
        .filter(|(_, phase)| matches!(phase, SessionPhase::Completed | SessionPhase::Failed))
        .collect();
    let mut deliveries = Vec::new();
    for (session_id, phase) in finished {
        let Some(session) = world.sessions.get(&session_id).cloned() else {
            continue;
        };
        let success = phase == SessionPhase::Completed;
        let event_type = if success {
            "video_agent.success"
        } else {
            "video_agent.fail"
        };
        let video = session.video_id.as_ref().and_then(|v| world.videos.get(v));
        let mut data = json!({
            "session_id": session.id,
            "video_id": session.video_id,
            "callback_id": session.callback_id,
        });
        if success {
            data["url"] = json!(format!(
                "{}/files/{}.mp4",
                world.base(),
                session.video_id.clone().unwrap_or_default()
            ));
        } else if video.is_some() {
            data["failure_code"] = json!("rendering_failed");
            data["failure_message"] = json!("Avatar rendering timed out");
        } else if session.stopped {
            data["failure_message"] = json!("Session stopped by request.");
        } else {
            data["failure_message"] = json!(
                "The agent could not plan this video: the requested avatar is not available."
            );
        }
        deliveries.extend(announce(
            &mut world,
            event_type,
            data,
            &session.id,
            session.callback_url.as_deref(),
        ));
        if let Some(session) = world.sessions.get_mut(&session_id) {
            session.notified = true;
        }
    }
    // Videos made directly: `avatar_video.success` or `avatar_video.fail`.
    let finished: Vec<(String, VideoPhase)> = world
        .unsettled_videos()
        .filter(|v| !v.notified)
        .map(|v| (v.id.clone(), world.video_phase(v)))
        .filter(|(_, phase)| matches!(phase, VideoPhase::Completed | VideoPhase::Failed))
        .collect();
    for (video_id, phase) in finished {
        let Some(video) = world.videos.get_mut(&video_id) else {
            continue;
        };
        video.notified = true;
        let (callback_url, callback_id) = (video.callback_url.clone(), video.callback_id.clone());
        let (event_type, data) = if phase == VideoPhase::Completed {
            let url = format!("{}/files/{video_id}.mp4", world.base());
            (
                "avatar_video.success",
                json!({"video_id": video_id, "url": url, "callback_id": callback_id}),
            )
        } else {
            (
                "avatar_video.fail",
                json!({"video_id": video_id, "msg": "Avatar rendering timed out", "callback_id": callback_id}),
            )
        };
        deliveries.extend(announce(
            &mut world,
            event_type,
            data,
            &video_id,
            callback_url.as_deref(),
        ));
    }
    // Jobs of the other families, where HeyGen has an event type for them.
    let finished: Vec<String> = world
        .unsettled_jobs()
        .filter(|j| !j.notified)
        .filter(|j| {
            matches!(
                world.job_phase(j),
                super::jobs::Phase::Completed | super::jobs::Phase::Failed
            )
        })
        .map(|j| j.id.clone())
        .collect();
    for id in finished {
        let Some(job) = world.jobs.get(&id).cloned() else {
            continue;
        };
        if let Some(job) = world.jobs.get_mut(&id) {
            job.notified = true;
        }
        if let Some((event_type, data)) = world.job_event(&job) {
            deliveries.extend(announce(
                &mut world,
                event_type,
                data,
                &id,
                job.callback_url.as_deref(),
            ));
        }
    }
    world.settle();
    deliveries
}

/// Records an event about `entity` and lists its deliveries: unsigned to the request's
/// `callback_url`, signed to every endpoint that subscribes to it.
fn announce(
    world: &mut World,
    event_type: &str,
    data: Value,
    entity: &str,
    callback_url: Option<&str>,
) -> Vec<Delivery> {
    let mut deliveries = Vec::new();
    let event_id = world.id("evt");
    let body: Value = json!({"event_type": event_type, "event_data": data});
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    world.events.push(Event {
        id: event_id.clone(),
        event_type: event_type.to_string(),
        data: body["event_data"].clone(),
        created_at: super::iso_now(),
        entity_id: Some(entity.to_string()),
    });
    let attempts = world.config.webhook_attempts;
    if let Some(url) = callback_url {
        deliveries.push(Delivery {
            url: url.to_string(),
            body: bytes.clone(),
            event_id: event_id.clone(),
            secret: None,
            attempts,
        });
    }
    for endpoint in world.endpoints.values() {
        let subscribed = endpoint
            .events
            .as_ref()
            .is_none_or(|events| events.iter().any(|e| e == event_type));
        let in_scope = endpoint.entity_id.as_ref().is_none_or(|id| id == entity);
        if subscribed && in_scope {
            deliveries.push(Delivery {
                url: endpoint.url.clone(),
                body: bytes.clone(),
                event_id: event_id.clone(),
                secret: Some(endpoint.secret.clone()),
                attempts,
            });
        }
    }
    deliveries
}

/// POSTs one delivery, retrying with backoff until a 2xx or the attempts run out.
async fn deliver(http: reqwest::Client, delivery: Delivery) {
    let mut wait = Duration::from_millis(100);
    for attempt in 1..=delivery.attempts {
        let mut request = http
            .post(&delivery.url)
            .header("content-type", "application/json")
            .header(webhook::EVENT_ID_HEADER, delivery.event_id.as_str())
            .body(delivery.body.clone());
        if let Some(secret) = &delivery.secret {
            // Signed at each attempt, with a fresh timestamp, as HeyGen does.
            request = request.headers(webhook::sign(
                secret,
                &delivery.body,
                webhook::now_unix(),
                &delivery.event_id,
            ));
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => tracing::debug!(
                url = delivery.url.as_str(),
                attempt,
                status = response.status().as_u16(),
                "webhook delivery refused"
            ),
            Err(error) => {
                tracing::debug!(url = delivery.url.as_str(), attempt, %error, "webhook delivery failed")
            }
        }
        if attempt < delivery.attempts {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::state::{Video, World};

    /// Once a video has ended, been charged and announced, nothing looks at it again: what a
    /// request or a tick goes through shrinks back to the jobs in flight, however many the
    /// simulator remembers.
    #[test]
    fn what_has_settled_is_watched_no_more() {
        let config = crate::simulator::Simulator::new().time_scale(600.0).config;
        crate::api::client::install_crypto_provider();
        let shared = Shared {
            world: std::sync::Mutex::new(World::new(config)),
            http: reqwest::Client::new(),
        };
        let in_flight = {
            let mut world = shared.world();
            let now = world.now();
            let video = |world: &mut World, started, fail| {
                let id = world.id("vid");
                world.add_video(Video {
                    id: id.clone(),
                    session_id: None,
                    title: String::new(),
                    started,
                    created_unix: 0,
                    fail,
                    charged: false,
                    callback_url: None,
                    callback_id: None,
                    notified: false,
                });
                id
            };
            // A render takes about 0.1 s of real time at 600×: these ended long ago.
            let long_ago = now - Duration::from_secs(30);
            for i in 0..100 {
                video(&mut world, long_ago, i % 10 == 0);
            }
            let in_flight = video(&mut world, now, false);
            assert_eq!(world.unsettled.videos.len(), 101);
            in_flight
        };
        let deliveries = due(&shared);
        assert!(deliveries.is_empty(), "no endpoint, no callback");
        let world = shared.world();
        assert_eq!(world.videos.len(), 101);
        assert_eq!(
            world.unsettled.videos.iter().collect::<Vec<_>>(),
            [&in_flight]
        );
        assert_eq!(world.jobs_in_flight(), 1);
        // The 90 that completed were charged once each.
        assert!((world.spent_usd - 90.0 * world.video_cost()).abs() < 1e-6);
    }
}
