//! Compiles and exercises what the generator emits for its own test schemas
//! (`xtask/tests/kitchen-sink/`), which use every construct it supports — the generated code is
//! only trusted because output like this compiles and behaves.

pub use happyhorse_types::ValueError;

#[allow(unreachable_pub, dead_code)]
#[path = "kitchen_sink/defs.rs"]
mod defs;
#[allow(unreachable_pub, dead_code)]
#[path = "kitchen_sink/input.rs"]
mod input;

use defs::{Envelope, Level, Payload, Percent, Shape, State};
use input::{KitchenSinkInput, Mode, Ratio, Steps, Strength};
use serde_json::json;

#[test]
fn a_full_struct_round_trips() {
    let wire = json!({
        "id": "x", "state": "4K", "type": "t", "count": 3, "delta": -3, "ratio": 0.5, "flag": true,
        "link": "https://a.example/", "links": ["https://b.example/"], "sizes": [1, 2],
        "extra": {"k": [1]}, "anything": null, "shape": "16:9", "level": 8, "percent": -100,
        "payload": 2.5, "nested": {"name": "n"}
    });
    let envelope: Envelope = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(envelope.state, State::K4);
    assert_eq!(envelope.r#type.as_deref(), Some("t"));
    assert_eq!(envelope.shape, Some(Shape::R16x9));
    assert_eq!(envelope.payload, Some(Payload::Number(2.5)));
    assert_eq!(envelope.level.map(Level::get), Some(8));
    // `anything: null` is absent after the round trip: null and missing mean the same here.
    let mut expected = wire;
    expected.as_object_mut().unwrap().remove("anything");
    assert_eq!(serde_json::to_value(&envelope).unwrap(), expected);
}

#[test]
fn names_follow_the_wire_values() {
    assert_eq!(Shape::ALL, &[Shape::Circle, Shape::SquareBox, Shape::R16x9]);
    assert_eq!(State::from("queued"), State::Queued);
    assert_eq!(State::from("later"), State::Unknown("later".into()));
    assert_eq!(State::KNOWN, &["queued", "done", "4K"]);
}

#[test]
fn integer_rules_are_enforced_with_clear_messages() {
    assert_eq!(
        Level::new(3).unwrap_err().to_string(),
        "level: must be one of 1, 2, 4, 8, got 3"
    );
    assert_eq!(Level::default().get(), 4);
    assert_eq!(
        Percent::new(-101).unwrap_err().to_string(),
        "percent: must be an integer from -100 to 100, got -101"
    );
    assert_eq!(Percent::MIN.get(), -100);
    let err =
        serde_json::from_value::<Envelope>(json!({"id": "x", "state": "done", "percent": 101}))
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "percent: must be an integer from -100 to 100, got 101"
    );
}

#[test]
fn untagged_alternatives_are_told_apart_by_json_type() {
    for (wire, expected) in [
        (json!("t"), Payload::Text("t".into())),
        (json!(1), Payload::Number(1.0)),
        (
            json!({"a": 1}),
            Payload::Object(json!({"a": 1}).as_object().unwrap().clone()),
        ),
    ] {
        assert_eq!(serde_json::from_value::<Payload>(wire).unwrap(), expected);
    }
    assert!(serde_json::from_value::<Payload>(json!([1])).is_err());
}

#[test]
fn input_defaults_come_from_the_schema() {
    let input: KitchenSinkInput =
        serde_json::from_value(json!({"name": "n", "mode": "fast"})).unwrap();
    assert_eq!(input, KitchenSinkInput::new("n", Mode::Fast));
    assert!(input.loud);
    assert_eq!(input.label, "untitled");
    assert_eq!(input.gain, 1.5);
    assert_eq!(input.steps, Steps::new(20).unwrap());
    assert_eq!(input.strength, Strength::new(5).unwrap());
    assert_eq!(input.note, None);
    let built = KitchenSinkInput::new("n", Mode::Slow)
        .steps(30)
        .unwrap()
        .note("hi")
        .loud(false)
        .photo_1("data:image/png;base64,AAAA")
        .ratio(Ratio::R16x9);
    assert_eq!(
        serde_json::to_value(&built).unwrap(),
        json!({"name": "n", "mode": "slow", "loud": false, "label": "untitled", "gain": 1.5, "steps": 30,
            "strength": 5, "note": "hi", "photo_1": "data:image/png;base64,AAAA", "ratio": "16:9"})
    );
    assert_eq!(input.ratio, Ratio::R1x1);
    assert_eq!(input.clip, None);
    assert_eq!(
        KitchenSinkInput::new("n", Mode::Slow)
            .strength(10)
            .unwrap_err()
            .to_string(),
        "strength: must be an integer from 1 to 9, got 10"
    );
}
