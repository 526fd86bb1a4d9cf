//! A chat-mode conversation with the Video Agent, scripted: the agent shows its storyboard,
//! gets two rounds of feedback, is approved, and renders. Offline, against the simulator.
//!
//! ```sh
//! cargo run --example chat
//! ```
//!
//! `heygen video-agent chat --prompt ".."` holds the same conversation in a terminal.

use std::time::Duration;

use heygen_api::chat::Turn;
use heygen_api::simulator::Simulator;
use heygen_api::{CreateVideoAgentRequest, WaitOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = Simulator::new().time_scale(60.0).start().await?;
    let client = sim.client()?;
    let mut answers = [
        "Make the scenes shorter, please.",
        "Use warmer colors in the second scene.",
    ]
    .into_iter();

    let mut chat = client
        .video_agents()
        .chat(CreateVideoAgentRequest::new(
            "A 30-second tour of our new office",
        ))
        .await?;
    println!("session {}", chat.session_id());
    let options = WaitOptions::new().initial_interval(Duration::from_millis(200));
    let outcome = loop {
        match chat.next_turn(options.clone()).await? {
            Turn::Paused {
                new_messages,
                resources,
                ..
            } => {
                for message in &new_messages {
                    println!("agent: {}", message.content);
                }
                for resource in &resources {
                    println!(
                        "       [{} {}]",
                        resource.resource_type, resource.resource_id
                    );
                }
                match answers.next() {
                    Some(answer) => {
                        println!("you:   {answer}");
                        chat.reply(answer).await?;
                    }
                    None => {
                        println!("you:   (approve)");
                        chat.approve().await?;
                    }
                }
            }
            Turn::Finished(outcome) => break outcome,
        }
    };
    let video = outcome.into_video()?;
    println!(
        "video {} completed: {}",
        video.id,
        video.video_url.as_deref().unwrap_or("")
    );
    sim.shutdown().await;
    Ok(())
}
