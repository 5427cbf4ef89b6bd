//! The prompt's length rule, which a JSON Schema cannot express: 5000 characters, or 2500 when
//! the prompt is Chinese.
//!
//! **Definition.** Characters are Unicode scalar values (what JSON Schema's `maxLength` counts).
//! A prompt is *Chinese* when at least half of its letters are Han ideographs, where a *letter*
//! is a character with the Unicode `Alphabetic` property (Latin, Cyrillic, kana, hangul and Han
//! letters; not digits, spaces or punctuation) and a *Han ideograph* is a code point in a CJK
//! Unified Ideographs block (U+4E00–U+9FFF, extension A U+3400–U+4DBF, extensions B–F
//! U+20000–U+2EBEF, extensions G–H U+30000–U+323AF) or a CJK Compatibility Ideographs block
//! (U+F900–U+FAFF, U+2F800–U+2FA1F).
//! Counting letters rather than all characters keeps a Chinese prompt Chinese when it has
//! numbers, spaces, ASCII punctuation or a few English words ("4K", "camera"); Japanese, which
//! mixes kanji with kana, is usually not Chinese by this rule.

use happyhorse_types::rules::PromptRule;
use serde_json::Value;

use super::error::InputError;

/// Image-to-video's limit for prompts that are not Chinese, in characters (every model's own is
/// in its `model.json`: [`check_prompt_rule`]).
pub const PROMPT_MAX_CHARS: usize = 5000;
/// Image-to-video's limit for Chinese prompts, in characters.
pub const CHINESE_PROMPT_MAX_CHARS: usize = 2500;

/// Whether `c` is a Han ideograph (a CJK Unified or Compatibility Ideograph).
pub fn is_han_ideograph(c: char) -> bool {
    matches!(
        c as u32,
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2EBEF
            | 0x30000..=0x323AF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

/// Whether `prompt` is Chinese: at least half of its letters (characters with the Unicode
/// `Alphabetic` property: Latin, Cyrillic, kana, hangul, Han, … — not digits, spaces or
/// punctuation) are Han ideographs ([`is_han_ideograph`]), and there is at least one.
/// Counting letters keeps a Chinese prompt Chinese when it holds numbers, punctuation or a few
/// English words; Japanese, which mixes kanji with kana, is usually not Chinese by this rule.
///
/// ```
/// use happyhorse_core::validate::is_chinese;
///
/// assert!(is_chinese("一匹马在草原上奔跑，镜头缓慢推进。"));
/// assert!(is_chinese("4K 电影感, slow motion, 一匹白马在雪地里奔跑"));
/// assert!(!is_chinese("A horse gallops across the steppe."));
/// assert!(!is_chinese("馬が草原を走っている、ゆっくりとカメラが近づく"));
/// assert!(!is_chinese("2024 !!!"));
/// ```
pub fn is_chinese(prompt: &str) -> bool {
    let (letters, han) = prompt
        .chars()
        .filter(|c| c.is_alphabetic())
        .fold((0usize, 0usize), |(l, h), c| {
            (l + 1, h + usize::from(is_han_ideograph(c)))
        });
    han > 0 && han * 2 >= letters
}

/// The prompt's limit in characters: [`CHINESE_PROMPT_MAX_CHARS`] when it [`is_chinese`],
/// else [`PROMPT_MAX_CHARS`].
pub fn prompt_limit(prompt: &str) -> usize {
    if is_chinese(prompt) {
        CHINESE_PROMPT_MAX_CHARS
    } else {
        PROMPT_MAX_CHARS
    }
}

/// Checks `prompt` (the value of `field`) against [`prompt_limit`], or the schema's own
/// `maxLength` when that is lower.
pub fn check_prompt(field: &str, prompt: &str, schema_max: Option<u64>) -> Result<(), InputError> {
    let chinese = is_chinese(prompt);
    let rule_limit = if chinese {
        CHINESE_PROMPT_MAX_CHARS
    } else {
        PROMPT_MAX_CHARS
    };
    let limit = schema_max.map_or(rule_limit, |max| {
        rule_limit.min(usize::try_from(max).unwrap_or(usize::MAX))
    });
    let count = prompt.chars().count();
    if count <= limit {
        return Ok(());
    }
    let why = if chinese && limit == CHINESE_PROMPT_MAX_CHARS {
        " (the prompt is Chinese: at least half of its letters are Han ideographs)"
    } else {
        ""
    };
    Err(InputError::new(
        field,
        "prompt_length",
        &format!("must be at most {limit} characters{why}, it has {count}"),
        super::error::show_value(&Value::String(prompt.to_owned())),
    ))
}

/// Checks `prompt` (the value of `field`) against a model's prompt rule (from its `model.json`):
/// `max_chars`, or `max_chars_chinese` when the prompt [`is_chinese`]. A rule without limits
/// checks nothing.
///
/// ```
/// use happyhorse_core::validate::check_prompt_rule;
///
/// // HappyHorse 1.0 text-to-video: 2500 characters, Chinese or not.
/// let rule = happyhorse_types::text_to_video::SPEC.rules()?.prompt.clone().unwrap();
/// let error = check_prompt_rule("prompt", &"a".repeat(2501), &rule).unwrap_err();
/// assert!(error.message.starts_with("prompt: must be at most 2500 characters, it has 2501"));
/// # Ok::<(), happyhorse_types::ModelInfoError>(())
/// ```
///
/// # Errors
/// The rule broken (`prompt_length`), naming the limit that applies.
pub fn check_prompt_rule(field: &str, prompt: &str, rule: &PromptRule) -> Result<(), InputError> {
    let chinese = is_chinese(prompt);
    let Some(limit) = rule.limit(chinese) else {
        return Ok(());
    };
    let count = prompt.chars().count();
    if count <= limit {
        return Ok(());
    }
    let differs = rule
        .max_chars_chinese
        .is_some_and(|c| Some(c) != rule.max_chars);
    let why = if chinese && differs {
        " (the prompt is Chinese: at least half of its letters are Han ideographs)"
    } else {
        ""
    };
    Err(InputError::new(
        field,
        "prompt_length",
        &format!("must be at most {limit} characters{why}, it has {count}"),
        super::error::show_value(&Value::String(prompt.to_owned())),
    ))
}
