//! The families' asynchronous jobs on their handles: create and wait, wait for one or many
//! (in bulk where HeyGen can), typed; and downloads of what they made.
//!
//! The waiting itself is `crate::jobs::job`, driven by the one lifecycle; this module only
//! types its records and ties each family's create to its wait.

use futures_util::StreamExt as _;
use serde_json::Value;

use crate::api::error::Result;
use crate::api::kinds::JobKind;
use crate::jobs::job::{JobEnded, JobOutcome, JobStream};
use crate::jobs::wait::WaitOptions;
use crate::transfer::download::FileDownload;

impl crate::api::client::Client {
    /// Downloads a file HeyGen made (a translated video, a clip, a cut-out, subtitles, speech
    /// audio) from its URL to `path`, as a video's download does: streamed through a
    /// temporary file renamed into place, `.on_progress(..)` reporting bytes as they arrive.
    pub fn download(&self, url: &str, path: impl AsRef<std::path::Path>) -> FileDownload<'_> {
        let url = if url.trim().is_empty() {
            Err(crate::api::error::Error::invalid(
                "url",
                "must not be empty",
            ))
        } else {
            Ok(url.to_string())
        };
        FileDownload::new(self, url, path.as_ref().to_path_buf())
    }
}

impl super::generated::TypedRecord {
    /// The record as JSON: what HeyGen sent, unknown members included.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The URLs of the files the job made, in its record's order: every place its kind's
    /// description names (every clip of a clipping job, every layer of a background
    /// removal); empty for a kind that makes none.
    pub fn urls(&self) -> Vec<String> {
        let record = self.to_json();
        self.kind()
            .result_urls(&record)
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    /// The video, for a video or a Video Agent job.
    pub fn video(&self) -> Option<&crate::api::types::VideoDetail> {
        match self {
            Self::Video(video) | Self::VideoAgent(video) => Some(video),
            _ => None,
        }
    }

    /// The record of a video or a Video Agent job.
    pub(crate) fn of_video(kind: JobKind, video: crate::api::types::VideoDetail) -> Self {
        match kind {
            JobKind::VideoAgent => Self::VideoAgent(Box::new(video)),
            _ => Self::Video(Box::new(video)),
        }
    }
}

/// A job's JSON record, typed.
#[cfg_attr(not(feature = "full"), allow(dead_code))]
fn typed<T: serde::de::DeserializeOwned>(kind: JobKind, record: Value) -> Result<T> {
    crate::jobs::job::decode(kind, kind.get_operation(), record)
}

/// Waits for one job and types its record.
#[cfg_attr(not(feature = "full"), allow(dead_code))]
async fn wait_one<T: serde::de::DeserializeOwned>(
    client: &crate::api::client::Client,
    kind: JobKind,
    id: &str,
    options: WaitOptions,
) -> Result<JobOutcome<T>> {
    client
        .wait_for_job(kind, id, options)
        .await?
        .try_map(|record| typed(kind, record))
}

/// Waits for many jobs and types each record as it ends.
#[cfg_attr(not(feature = "full"), allow(dead_code))]
fn wait_many<T: serde::de::DeserializeOwned + Send + 'static>(
    client: &crate::api::client::Client,
    kind: JobKind,
    ids: impl IntoIterator<Item = impl Into<String>>,
    options: WaitOptions,
) -> JobStream<'static, T> {
    Box::pin(client.wait_for_jobs(kind, ids, options).map(move |ended| {
        JobEnded {
            id: ended.id,
            label: ended.label,
            outcome: ended
                .outcome
                .and_then(|outcome| outcome.try_map(|record| typed(kind, record))),
        }
    }))
}

/// Runs a multi-job wait to its end: every job's end, in the order the ids were given.
#[cfg_attr(not(feature = "full"), allow(dead_code))]
async fn collect_in_order<T>(ids: &[String], stream: JobStream<'static, T>) -> Vec<JobEnded<T>> {
    let mut ended: Vec<JobEnded<T>> = stream.collect().await;
    ended.sort_by_key(|end| ids.iter().position(|id| *id == end.id));
    ended
}

#[cfg(feature = "translations")]
mod translations {
    use super::*;
    use crate::api::types::{Proofread, VideoTranslation};
    use crate::resources::generated::builders::{CreateVideoTranslation, GenerateFromProofread};
    use crate::resources::generated::handles::VideoTranslations;

    impl VideoTranslations<'_> {
        /// Waits until the translation is `completed` or `failed` (or the deadline passes).
        pub async fn wait(
            &self,
            video_translation_id: &str,
            options: WaitOptions,
        ) -> Result<JobOutcome<VideoTranslation>> {
            wait_one(
                self.client,
                JobKind::VideoTranslation,
                video_translation_id,
                options,
            )
            .await
        }

        /// Waits for many translations, 100 ids a status request, yielding each as it ends.
        pub fn wait_many(
            &self,
            video_translation_ids: impl IntoIterator<Item = impl Into<String>>,
            options: WaitOptions,
        ) -> JobStream<'static, VideoTranslation> {
            wait_many(
                self.client,
                JobKind::VideoTranslation,
                video_translation_ids,
                options,
            )
        }

        /// Waits until the proofread's subtitles are ready (`completed`) or it `failed`.
        pub async fn wait_proofread(
            &self,
            proofread_id: &str,
            options: WaitOptions,
        ) -> Result<JobOutcome<Proofread>> {
            wait_one(self.client, JobKind::Proofread, proofread_id, options).await
        }
    }

    impl CreateVideoTranslation<'_> {
        /// Sends the request, then waits for every translation it started (one per output
        /// language), polled in bulk. The ends come in the order of the output languages, and
        /// each says its language in [`JobEnded::label`].
        ///
        /// # Errors
        /// The create's own errors; the wait's ends are in the list, one per translation.
        pub async fn send_and_wait(
            self,
            options: WaitOptions,
        ) -> Result<Vec<JobEnded<VideoTranslation>>> {
            let client = self.client();
            let languages = self.to_body()?.output_languages;
            let created = self.send().await?;
            let ids = created.video_translation_ids;
            let stream = wait_many(client, JobKind::VideoTranslation, ids.clone(), options);
            let mut ended = collect_in_order(&ids, stream).await;
            for end in &mut ended {
                // The record says its language; without one (a wait that ended in an
                // error, a timeout), HeyGen's order of ids is the order of the languages.
                let said = match &end.outcome {
                    Ok(outcome) => outcome
                        .record()
                        .and_then(|r: &VideoTranslation| r.output_language.clone()),
                    Err(_) => None,
                };
                let by_order = ids
                    .iter()
                    .position(|id| *id == end.id)
                    .and_then(|at| languages.get(at).cloned());
                end.label = said.or(by_order);
            }
            Ok(ended)
        }
    }

    impl GenerateFromProofread<'_> {
        /// Sends the request, then waits for the translation it started.
        pub async fn send_and_wait(
            self,
            options: WaitOptions,
        ) -> Result<JobOutcome<VideoTranslation>> {
            let client = self.client();
            let created = self.send().await?;
            wait_one(
                client,
                JobKind::VideoTranslation,
                &created.video_translation_id,
                options,
            )
            .await
        }
    }
}

#[cfg(feature = "lipsync")]
mod lipsyncs {
    use super::*;
    use crate::api::types::Lipsync;
    use crate::resources::generated::builders::CreateLipsync;
    use crate::resources::generated::handles::Lipsyncs;

    impl Lipsyncs<'_> {
        /// Waits until the lip-sync job is `completed` or `failed` (or the deadline passes).
        pub async fn wait(
            &self,
            lipsync_id: &str,
            options: WaitOptions,
        ) -> Result<JobOutcome<Lipsync>> {
            wait_one(self.client, JobKind::Lipsync, lipsync_id, options).await
        }

        /// Waits for many lip-sync jobs, 100 ids a status request, yielding each as it ends.
        pub fn wait_many(
            &self,
            lipsync_ids: impl IntoIterator<Item = impl Into<String>>,
            options: WaitOptions,
        ) -> JobStream<'static, Lipsync> {
            wait_many(self.client, JobKind::Lipsync, lipsync_ids, options)
        }
    }

    impl CreateLipsync<'_> {
        /// Sends the request, then waits for the job.
        pub async fn send_and_wait(self, options: WaitOptions) -> Result<JobOutcome<Lipsync>> {
            let client = self.client();
            let created = self.send().await?;
            wait_one(client, JobKind::Lipsync, &created.lipsync_id, options).await
        }
    }
}

#[cfg(feature = "clipping")]
mod clipping {
    use super::*;
    use crate::api::types::{ClippingJob, CreatedClippingJob};
    use crate::resources::generated::builders::CreateClippingJob;
    use crate::resources::generated::handles::AiClipping;

    /// The job a create started: HeyGen's schemas do not say whether its id comes as `id` or
    /// `job_id`; either is taken.
    pub(crate) fn job_id(created: &CreatedClippingJob) -> Result<String> {
        // Where the spec says the id is (`id`, else `job_id`), as for every kind.
        created.job_id().ok_or_else(|| {
            crate::api::error::unexpected_answer(
                "create_clipping_job",
                "the answer names no job id",
            )
        })
    }

    impl AiClipping<'_> {
        /// Waits until the clipping job is `completed`, `failed` or `cancelled` (or the
        /// deadline passes). Each clip has its own status in the record.
        pub async fn wait(
            &self,
            job_id: &str,
            options: WaitOptions,
        ) -> Result<JobOutcome<ClippingJob>> {
            wait_one(self.client, JobKind::ClippingJob, job_id, options).await
        }
    }

    impl CreateClippingJob<'_> {
        /// Sends the request, then waits for the job.
        pub async fn send_and_wait(self, options: WaitOptions) -> Result<JobOutcome<ClippingJob>> {
            let client = self.client();
            let created = self.send().await?;
            wait_one(client, JobKind::ClippingJob, &job_id(&created)?, options).await
        }
    }
}

#[cfg(feature = "background-removal")]
mod background_removals {
    use super::*;
    use crate::api::types::BackgroundRemoval;
    use crate::resources::generated::builders::CreateBackgroundRemoval;
    use crate::resources::generated::handles::BackgroundRemovals;

    impl BackgroundRemovals<'_> {
        /// Waits until the background removal is done or has failed (or the deadline passes).
        pub async fn wait(
            &self,
            job_id: &str,
            options: WaitOptions,
        ) -> Result<JobOutcome<BackgroundRemoval>> {
            wait_one(self.client, JobKind::BackgroundRemoval, job_id, options).await
        }
    }

    impl CreateBackgroundRemoval<'_> {
        /// Sends the request, then waits for the job.
        pub async fn send_and_wait(
            self,
            options: WaitOptions,
        ) -> Result<JobOutcome<BackgroundRemoval>> {
            let client = self.client();
            let created = self.send().await?;
            wait_one(client, JobKind::BackgroundRemoval, &created.id, options).await
        }
    }
}

#[cfg(feature = "avatars")]
mod avatars {
    use super::*;
    use crate::api::types::AvatarGroup;
    use crate::resources::generated::builders::CreateAvatar;
    use crate::resources::generated::handles::Avatars;

    impl Avatars<'_> {
        /// Waits until the avatar group is trained (`completed`) or `failed`; a group waiting
        /// for consent ends the wait as [`JobOutcome::NeedsInput`].
        pub async fn wait(
            &self,
            group_id: &str,
            options: WaitOptions,
        ) -> Result<JobOutcome<AvatarGroup>> {
            wait_one(self.client, JobKind::Avatar, group_id, options).await
        }
    }

    impl CreateAvatar<'_> {
        /// Sends the request, then waits for the new group's training (or its need of
        /// consent).
        pub async fn send_and_wait(self, options: WaitOptions) -> Result<JobOutcome<AvatarGroup>> {
            let client = self.client();
            let created = self.send().await?;
            let group = created.avatar_group.map(|g| g.id).ok_or_else(|| {
                crate::api::error::unexpected_answer(
                    "create_avatar",
                    "the answer names no avatar group",
                )
            })?;
            wait_one(client, JobKind::Avatar, &group, options).await
        }
    }
}

#[cfg(feature = "voices")]
mod voices {
    use super::*;
    use crate::api::types::VoiceDetail;
    use crate::resources::generated::builders::CloneVoice;
    use crate::resources::generated::handles::Voices;

    impl Voices<'_> {
        /// Waits until a cloned or designed voice is ready (`complete`) or `failed`.
        pub async fn wait(
            &self,
            voice_id: &str,
            options: WaitOptions,
        ) -> Result<JobOutcome<VoiceDetail>> {
            wait_one(self.client, JobKind::Voice, voice_id, options).await
        }
    }

    impl CloneVoice<'_> {
        /// Sends the request, then waits for the voice.
        pub async fn send_and_wait(self, options: WaitOptions) -> Result<JobOutcome<VoiceDetail>> {
            let client = self.client();
            let created = self.send().await?;
            wait_one(client, JobKind::Voice, &created.voice_clone_id, options).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::generated::TypedRecord;
    use crate::api::kinds::JobKind;

    /// A record typed by its kind; one that does not fit its kind's type is kept whole, and
    /// says why, instead of losing a finished job.
    #[test]
    fn a_record_is_typed_by_its_kind_or_kept_whole() {
        let video = serde_json::json!({"id": "v1", "status": "completed",
            "video_url": "https://example.com/v1.mp4", "new_member": [1, 2]});
        let typed = TypedRecord::decode(JobKind::Video, video.clone());
        assert!(matches!(typed, TypedRecord::Video(_)), "{typed:?}");
        assert_eq!(typed.kind(), JobKind::Video);
        assert_eq!(typed.video().map(|v| v.id.as_str()), Some("v1"));
        assert_eq!(typed.to_json(), video, "unknown members kept");
        assert_eq!(typed.urls(), ["https://example.com/v1.mp4"]);

        let broken = serde_json::json!({"id": 7, "status": "completed"});
        let kept = TypedRecord::decode(JobKind::VideoAgent, broken.clone());
        match &kept {
            TypedRecord::Undecoded { kind, problem, .. } => {
                assert_eq!(*kind, JobKind::VideoAgent);
                assert!(
                    problem.contains("id") || problem.contains("string"),
                    "{problem}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(kept.to_json(), broken);
        assert_eq!(kept.kind(), JobKind::VideoAgent);
    }
}
