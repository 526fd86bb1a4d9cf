//! Webhook verification against independently computed HMAC vectors, every refusal reason,
//! and property tests: no input makes the verifier or the parser panic.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use heygen_api::webhook::{self, Verifier, WebhookError, WebhookEvent};
use heygen_api::EventType;
use proptest::prelude::*;

const SECRET: &str = "whsec_k7x9m2";
const BODY: &str = r#"{"event_type":"video_agent.success","event_data":{"session_id":"sess_1","video_id":"vid_1","url":"https://files.heygen.ai/video/vid_1.mp4","callback_id":"order-42"}}"#;
/// HMAC-SHA256(SECRET, BODY), computed with Python's `hmac` module.
const BODY_SIGNATURE: &str = "4432b605a7e3620c42a16e49aacef51d5662a1cf110e23d002aaaad8a35c2078";
const NOW: u64 = 1_790_000_000;

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn verifier() -> Verifier {
    Verifier::new(SECRET).clock(|| at(NOW))
}

fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn signatures_match_rfc_4231_and_an_independent_implementation() {
    // RFC 4231, test case 2.
    assert_eq!(
        webhook::signature("Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // RFC 4231, test case 1 (key: 20 bytes of 0x0b).
    assert_eq!(
        webhook::signature(&"\x0b".repeat(20), b"Hi There"),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    assert_eq!(webhook::signature(SECRET, BODY.as_bytes()), BODY_SIGNATURE);
}

#[test]
fn a_documented_delivery_verifies_and_parses() {
    let h = headers(&[
        ("Heygen-Signature", BODY_SIGNATURE),
        ("Heygen-Timestamp", &NOW.to_string()),
        ("Heygen-Event-Id", "evt_123"),
    ]);
    let delivery = verifier().verify(&h, BODY.as_bytes()).unwrap();
    assert_eq!(delivery.event_id.as_deref(), Some("evt_123"));
    assert_eq!(delivery.timestamp, Some(NOW));
    let WebhookEvent::VideoAgentSuccess(event) = &delivery.event else {
        panic!("{:?}", delivery.event)
    };
    assert_eq!(event.event_type, EventType::VideoAgentSuccess);
    assert_eq!(event.session_id(), Some("sess_1"));
    assert_eq!(event.video_id(), Some("vid_1"));
    assert_eq!(event.url(), Some("https://files.heygen.ai/video/vid_1.mp4"));
    assert_eq!(event.callback_id(), Some("order-42"));
    assert!(!event.is_failure());
}

#[test]
fn the_signature_header_falls_back_and_names_are_case_insensitive() {
    let now = NOW.to_string();
    for name in [
        "signature",
        "Signature",
        "HEYGEN-SIGNATURE",
        "heygen-signature",
    ] {
        let h = headers(&[(name, BODY_SIGNATURE), ("Heygen-Timestamp", &now)]);
        assert!(verifier().verify(&h, BODY.as_bytes()).is_ok(), "{name}");
    }
    // An http::HeaderMap works the same way.
    let map = webhook::sign(SECRET, BODY.as_bytes(), NOW, "evt_9");
    let delivery = verifier().verify(&map, BODY.as_bytes()).unwrap();
    assert_eq!(delivery.event_id.as_deref(), Some("evt_9"));
    // Without a timestamp header, refused unless the verifier is told to accept it.
    let h = headers(&[("Heygen-Signature", BODY_SIGNATURE)]);
    assert!(matches!(
        verifier().verify(&h, BODY.as_bytes()),
        Err(WebhookError::MissingTimestamp)
    ));
    assert_eq!(
        verifier()
            .allow_missing_timestamp()
            .verify(&h, BODY.as_bytes())
            .unwrap()
            .timestamp,
        None
    );
}

#[test]
fn several_secrets_are_accepted_during_a_rotation() {
    let rotated = Verifier::new("whsec_new")
        .add_secret(SECRET)
        .clock(|| at(NOW));
    let now = NOW.to_string();
    let h = headers(&[
        ("Heygen-Signature", BODY_SIGNATURE),
        ("Heygen-Timestamp", &now),
    ]);
    assert!(rotated.verify(&h, BODY.as_bytes()).is_ok());
    let only_new = Verifier::new("whsec_new");
    assert!(matches!(
        only_new.verify(&h, BODY.as_bytes()),
        Err(WebhookError::BadSignature)
    ));
}

#[test]
fn each_refusal_has_its_own_error() {
    // The one documented body, again and again: the replay memory would refuse the repeats.
    let v = verifier().remember(0);
    let body = BODY.as_bytes();
    let missing = v.verify(&headers(&[]), body).unwrap_err();
    assert!(
        matches!(missing, WebhookError::MissingSignature),
        "{missing}"
    );

    let tampered = BODY.replace("vid_1", "vid_2");
    let bad = v.verify(
        &headers(&[("Heygen-Signature", BODY_SIGNATURE)]),
        tampered.as_bytes(),
    );
    assert!(matches!(bad, Err(WebhookError::BadSignature)));

    let wrong_secret = webhook::signature("whsec_wrong", body);
    let bad = v.verify(&headers(&[("Heygen-Signature", &wrong_secret)]), body);
    assert!(matches!(bad, Err(WebhookError::BadSignature)));

    for not_hex in ["zz", "", "4432b6", "not-a-signature"] {
        let bad = v.verify(&headers(&[("Heygen-Signature", not_hex)]), body);
        assert!(
            matches!(bad, Err(WebhookError::BadSignature)),
            "{not_hex:?}"
        );
    }

    for skew in [-301i64, 301, -100_000, 100_000] {
        let ts = (NOW as i64 + skew).to_string();
        let stale = v.verify(
            &headers(&[
                ("Heygen-Signature", BODY_SIGNATURE),
                ("Heygen-Timestamp", &ts),
            ]),
            body,
        );
        assert!(
            matches!(stale, Err(WebhookError::StaleTimestamp { .. })),
            "skew {skew}: {stale:?}"
        );
    }
    for skew in [-300i64, 0, 300] {
        let ts = (NOW as i64 + skew).to_string();
        let fresh = v.verify(
            &headers(&[
                ("Heygen-Signature", BODY_SIGNATURE),
                ("Heygen-Timestamp", &ts),
            ]),
            body,
        );
        assert!(fresh.is_ok(), "skew {skew}");
    }
    let strict = verifier().tolerance(Duration::from_secs(10));
    let ts = (NOW - 11).to_string();
    assert!(strict
        .verify(
            &headers(&[
                ("Heygen-Signature", BODY_SIGNATURE),
                ("Heygen-Timestamp", &ts)
            ]),
            body
        )
        .is_err());
    let garbled = v.verify(
        &headers(&[
            ("Heygen-Signature", BODY_SIGNATURE),
            ("Heygen-Timestamp", "yesterday"),
        ]),
        body,
    );
    assert!(matches!(garbled, Err(WebhookError::InvalidTimestamp(_))));

    let big = vec![b' '; 2048];
    let too_large = verifier()
        .max_body_bytes(1024)
        .verify(&headers(&[("Heygen-Signature", "00")]), &big);
    assert!(matches!(
        too_large,
        Err(WebhookError::BodyTooLarge {
            size: 2048,
            limit: 1024
        })
    ));

    let garbage = b"{not json";
    let sig = webhook::signature(SECRET, garbage);
    let now = NOW.to_string();
    let malformed = v.verify(
        &headers(&[("Heygen-Signature", &sig), ("Heygen-Timestamp", &now)]),
        garbage,
    );
    assert!(matches!(malformed, Err(WebhookError::MalformedPayload(_))));
}

#[test]
fn failure_text_and_callback_ids_are_found_wherever_they_sit() {
    let cases = [
        (
            r#"{"event_type":"avatar_video.fail","event_data":{"video_id":"v","msg":"too long","callback_id":"c1"}}"#,
            "too long",
            "c1",
        ),
        (
            r#"{"event_type":"video_translate.fail","event_data":{"message":"bad audio"},"callback_id":"c2"}"#,
            "bad audio",
            "c2",
        ),
        (
            r#"{"event_type":"video_agent.fail","event_data":{"failure_message":"no avatar","failure_code":"avatar_not_found","callback_id":"c3"}}"#,
            "no avatar",
            "c3",
        ),
    ];
    for (body, message, callback) in cases {
        let event = webhook::parse_unsigned_callback(body.as_bytes()).unwrap();
        let payload = event.payload().unwrap();
        assert!(payload.is_failure());
        assert_eq!(payload.failure_message(), Some(message));
        assert_eq!(payload.callback_id(), Some(callback));
    }
}

#[test]
fn unknown_event_types_keep_the_raw_body() {
    let body = br#"{"event_type":"hologram.ready","event_data":{"x":1}}"#;
    let event = webhook::parse_unsigned_callback(body).unwrap();
    let WebhookEvent::Unknown { event_type, raw } = &event else {
        panic!("{event:?}")
    };
    assert_eq!(event_type, "hologram.ready");
    assert_eq!(raw["event_data"]["x"], 1);
    assert!(webhook::parse_unsigned_callback(br#"{"event_data":{}}"#).is_err());
    assert!(webhook::parse_unsigned_callback(br#"[1,2]"#).is_err());
    assert!(webhook::parse_unsigned_callback(
        br#"{"event_type":"video_agent.success","event_data":7}"#
    )
    .is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn verify_never_panics(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        names in proptest::collection::vec("[A-Za-z-]{0,20}", 0..6),
        values in proptest::collection::vec(".{0,80}", 0..6),
        with_signature in any::<bool>(),
    ) {
        let mut h: Vec<(String, String)> = names.into_iter().zip(values).collect();
        if with_signature {
            h.push(("Heygen-Signature".into(), webhook::signature(SECRET, &body)));
        }
        let _ = verifier().verify(&h, &body);
        let _ = webhook::parse_unsigned_callback(&body);
    }

    #[test]
    fn signed_json_always_verifies_or_is_malformed(
        event_type in "[a-z_.]{1,30}",
        data in proptest::collection::hash_map("[a-z_]{1,12}", ".{0,40}", 0..6),
        timestamp_skew in -300i64..=300,
    ) {
        let body = serde_json::to_vec(&serde_json::json!({"event_type": event_type, "event_data": data})).unwrap();
        let ts = (NOW as i64 + timestamp_skew) as u64;
        let h = webhook::sign(SECRET, &body, ts, "evt");
        let delivery = verifier().verify(&h, &body).unwrap();
        prop_assert_eq!(delivery.event.event_type(), event_type.as_str());
    }

    #[test]
    fn file_input_decoding_never_panics(json in ".{0,200}", bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(input) = serde_json::from_str::<heygen_api::FileInput>(&json) {
            let _ = input.validate();
        }
        let _ = heygen_api::FileInput::from_bytes(&bytes);
        let _ = heygen_api::FileInput::from_base64("image/png", json);
    }
}
