//! The whole family from the command line, as the "done when" reads: every model runs
//! with realistic local files (`--emulator`) and saves an MP4; `validate` reports each model's own
//! broken rules all at once; a batch mixing every model finishes.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::common::{happyhorse, horse_png, png};
use super::jobs::Emu;

/// Every model by its short name, with the flags of a realistic input (local files). Short and
/// at 720P: `--emulator` renders each job's preview, which costs CPU by the frame.
fn models() -> Vec<(&'static str, Vec<String>)> {
    let image = horse_png().display().to_string();
    let video = horse_mp4().display().to_string();
    let flags = |extra: &[&str]| -> Vec<String> {
        let mut flags: Vec<String> = extra.iter().map(|f| f.to_string()).collect();
        flags.extend(["--resolution", "720P"].map(String::from));
        if !extra.contains(&"--video") {
            // Video-edit has no duration: its video follows the source's (3.5 s).
            flags.extend(["--duration", "3"].map(String::from));
        }
        flags
    };
    vec![
        ("i2v", flags(&["--image", &image])),
        ("t2v", flags(&["--aspect-ratio", "9:16"])),
        (
            "r2v",
            flags(&["--ref-image", &image, "--ref-image", &image]),
        ),
        ("edit", flags(&["--video", &video, "--ref-image", &image])),
        ("1.1/i2v", flags(&["--image", &image])),
        ("1.1/t2v", flags(&["--ratio", "1:1"])),
        ("1.1/r2v", flags(&["--ref-image", &image])),
    ]
}

fn horse_mp4() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/horse.mp4")
}

fn video_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../happyhorse-core/tests/fixtures/video")
        .join(name)
}

/// An MP4 (or MOV) file: its first box is `ftyp`.
fn is_mp4(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes.len() > 8 && &bytes[4..8] == b"ftyp")
}

/// `happyhorse --json run --model MODEL …` against `service` (`--emulator`, or `--base-url`):
/// succeeds, names the model, and saves an MP4.
fn runs_and_saves_an_mp4(dir: &Path, service: &[&str], model: &str, flags: &[String]) {
    let saved = format!("{}.mp4", model.replace('/', "-"));
    let run = happyhorse(dir)
        .env("RUNCOMFY_API_TOKEN", "test-token")
        .args(["--json", "run"])
        .args(service)
        .args(["--poll-interval", "20ms", "--model", model])
        .args([
            "--prompt",
            "The horse trots towards the camera",
            "-o",
            &saved,
        ])
        .args(flags)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{model}: {stderr}");
    let events: Vec<Value> = String::from_utf8_lossy(&run.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let spec = happyhorse_types::find_model(model).unwrap();
    assert_eq!(events[0]["model_id"], spec.id, "{model}");
    assert!(is_mp4(&dir.join(&saved)), "{model}: {saved} is not an MP4");
}

#[test]
fn every_model_runs_with_local_files_and_saves_an_mp4() {
    // Every model against an emulator serving its sample clip (cheap)…
    let emu = Emu::fast();
    let dir = tempfile::tempdir().unwrap();
    let base = ["--base-url", emu.emulator().base_url()];
    for (model, flags) in models() {
        runs_and_saves_an_mp4(dir.path(), &base, model, &flags);
    }
    // …and through `--emulator`, which renders the job's own preview (the cheapest: the edit's
    // card follows its 512×320, 3.5 s source; every kind's preview is checked in the emulator's
    // tests/preview_family.rs).
    let (model, flags) = models().into_iter().find(|(m, _)| *m == "edit").unwrap();
    let offline = ["--emulator", "--emulator-time-scale", "1000"];
    let elsewhere = dir.path().join("offline");
    std::fs::create_dir(&elsewhere).unwrap();
    runs_and_saves_an_mp4(&elsewhere, &offline, model, &flags);
}

#[test]
fn validate_reports_each_models_own_broken_rules_all_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = dir.path().join("tiny.png");
    std::fs::write(&tiny, png(200, 200)).unwrap();
    // Big enough for image-to-video (300 px), too small for reference-to-video's first (400 px).
    let small = dir.path().join("small.png");
    std::fs::write(&small, png(350, 350)).unwrap();
    let (tiny, small) = (tiny.display().to_string(), small.display().to_string());
    let hevc = video_fixture("hevc.mp4").display().to_string();
    let mov = video_fixture("clip.mov").display().to_string();
    let cases: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![
        (
            "i2v",
            vec!["--image", &tiny, "--duration", "16"],
            vec![
                "image_url: must be at least 300 px",
                "duration: must be an integer from 3 to 15",
            ],
        ),
        (
            "t2v",
            vec!["--aspect-ratio", "7:3", "--duration", "2"],
            vec!["aspect_ratio: must be one of", "duration: must be"],
        ),
        (
            "r2v",
            vec!["--ref-image", &small, "--ref-image", &mov],
            vec![
                "image_url_1: must be at least 400 px",
                "image_url_2: must be a JPEG, PNG or WEBP image",
            ],
        ),
        (
            "edit",
            vec!["--video", &hevc, "--seed", "-1"],
            vec![
                "video_url: must be encoded as H.264",
                "seed: must be at least 0",
            ],
        ),
        (
            "1.1/i2v",
            vec!["--image", &tiny, "--aspect-ratio", "16:9"],
            vec![
                "image_url: must be at least 300 px",
                "--aspect-ratio: must be a flag alibaba/happyhorse-1.1/image-to-video",
            ],
        ),
        (
            "1.1/t2v",
            vec!["--ratio", "4:3", "--seed", "1"],
            vec![
                "ratio: must be one of",
                "--seed: must be a flag alibaba/happyhorse-1.1/text-to-video",
            ],
        ),
        (
            "1.1/r2v",
            vec!["--ref-image", &mov, "--aspect-ratio", "16:9"],
            vec![
                "image_url_1: must be a JPEG, PNG or WEBP image",
                "use --ratio",
            ],
        ),
    ];
    for (model, flags, expected) in cases {
        let out = happyhorse(dir.path())
            .args(["validate", "--model", model, "--prompt", "x"])
            .args(&flags)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(65), "{model}: {stderr}");
        for rule in expected {
            assert!(stderr.contains(rule), "{model}: {rule:?} not in:\n{stderr}");
        }
    }
}

#[test]
fn a_batch_mixing_every_model_finishes_with_every_video() {
    let emu = Emu::fast();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(horse_png(), dir.path().join("horse.png")).unwrap();
    std::fs::copy(horse_mp4(), dir.path().join("horse.mp4")).unwrap();
    let prompt = "The horse trots";
    let lines = [
        json!({"id": "i2v", "image_url": "horse.png", "prompt": prompt, "duration": 3}),
        json!({"id": "t2v", "model": "t2v", "prompt": prompt, "aspect_ratio": "1:1"}),
        json!({"id": "r2v", "model": "happyhorse/happyhorse-1.0/reference-to-video", "image_url_1": "horse.png", "prompt": prompt}),
        json!({"id": "edit", "model": "edit", "video_url": "horse.mp4", "reference_image_url_1": "horse.png", "prompt": prompt}),
        json!({"id": "i2v-11", "model": "1.1/i2v", "image_url": "horse.png", "prompt": prompt}),
        json!({"id": "t2v-11", "model": "alibaba/happyhorse-1.1/text-to-video", "prompt": prompt, "ratio": "9:16"}),
        json!({"id": "r2v-11", "model": "1.1/r2v", "image_url_1": "horse.png", "prompt": prompt}),
    ];
    let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
    std::fs::write(dir.path().join("jobs.jsonl"), text).unwrap();
    let out = emu
        .cli(dir.path())
        .args([
            "--json",
            "batch",
            "jobs.jsonl",
            "--out-dir",
            "out",
            "--poll-interval",
            "20ms",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    for line in &lines {
        let id = line["id"].as_str().unwrap();
        assert!(
            is_mp4(&dir.path().join("out").join(format!("{id}.mp4"))),
            "{id}"
        );
    }
    // Each job went to its own model: the emulator's view of each job, by the report's ids.
    let report: Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|event| event["event"] == "report")
        .unwrap();
    let mut models: Vec<String> = report["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| {
            let id = job["request_id"].as_str().unwrap();
            let seen = emu.emulator().inspect_job(id).unwrap();
            seen["model_id"].as_str().unwrap().to_owned()
        })
        .collect();
    models.sort();
    models.dedup();
    assert_eq!(models.len(), 7, "{models:?}");
}
