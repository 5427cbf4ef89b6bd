//! A title card: a soft gradient (colours from the seed) carrying the prompt's first words in a
//! public-domain 8×8 bitmap font, and a small line saying it is the emulator's preview.

use font8x8::legacy::{BASIC_LEGACY, LATIN_LEGACY};
use image::{Rgb, RgbImage};

/// Characters per line, at most.
const LINE_CHARS: usize = 22;
/// Lines of prompt, at most (the rest becomes "…").
const MAX_LINES: usize = 4;
/// What the card says about itself.
const LABEL: &str = "HappyHorse emulator - offline preview";

/// Draws a `width`×`height` card for `prompt`.
pub(crate) fn draw(width: u32, height: u32, prompt: &str, seed: u64) -> RgbImage {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x5851_f42d_4c95_7f2d);
    let top = [rng.u8(20..90), rng.u8(20..90), rng.u8(60..140)];
    let bottom = [rng.u8(0..40), rng.u8(0..40), rng.u8(10..60)];
    let mut card = RgbImage::from_fn(width, height, |_, y| {
        let t = f64::from(y) / f64::from(height.max(2) - 1);
        Rgb(std::array::from_fn(|c| {
            (f64::from(top[c]) * (1.0 - t) + f64::from(bottom[c]) * t).round() as u8
        }))
    });
    let lines = wrap(prompt);
    // The longest possible line spans about 80 % of the width.
    let scale = ((f64::from(width) * 0.8) / (LINE_CHARS as f64 * 8.0))
        .floor()
        .max(1.0) as u32;
    let line_height = scale * 12;
    let block = line_height * lines.len() as u32;
    let mut y = height.saturating_sub(block) / 2;
    for line in &lines {
        let x = width.saturating_sub(text_width(line, scale)) / 2;
        text(
            &mut card,
            x + scale / 2,
            y + scale / 2,
            line,
            scale,
            [0, 0, 0],
        );
        text(&mut card, x, y, line, scale, [245, 240, 230]);
        y += line_height;
    }
    let small = (scale / 2).max(1);
    let x = width.saturating_sub(text_width(LABEL, small)) / 2;
    let y = height.saturating_sub(small * 8 * 3);
    text(&mut card, x, y, LABEL, small, [200, 200, 210]);
    card
}

/// The prompt's first words in lines of at most [`LINE_CHARS`]; a long word is cut.
pub(crate) fn wrap(prompt: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut truncated = false;
    for word in prompt.split_whitespace() {
        let word: String = word.chars().take(LINE_CHARS).collect();
        let fits = lines
            .last()
            .is_some_and(|line| line.chars().count() + 1 + word.chars().count() <= LINE_CHARS);
        if fits {
            let line = lines.last_mut().expect("fits means there is a line");
            line.push(' ');
            line.push_str(&word);
        } else if lines.len() == MAX_LINES {
            truncated = true;
            break;
        } else {
            lines.push(word);
        }
    }
    if truncated && let Some(last) = lines.last_mut() {
        while last.chars().count() + 3 > LINE_CHARS {
            last.pop();
        }
        last.push_str("...");
    }
    if lines.is_empty() {
        lines.push("(no prompt)".to_owned());
    }
    lines
}

fn text_width(line: &str, scale: u32) -> u32 {
    line.chars().count() as u32 * 8 * scale
}

/// The 8×8 glyph of `c`: ASCII and Latin-1; anything else is drawn as `?`.
fn glyph(c: char) -> [u8; 8] {
    let code = c as usize;
    match code {
        0..128 => BASIC_LEGACY[code],
        0xa0..0x100 => LATIN_LEGACY[code - 0xa0],
        _ => BASIC_LEGACY[usize::from(b'?')],
    }
}

fn text(card: &mut RgbImage, x: u32, y: u32, line: &str, scale: u32, color: [u8; 3]) {
    for (i, c) in line.chars().enumerate() {
        let left = x + i as u32 * 8 * scale;
        for (row, bits) in glyph(c).iter().enumerate() {
            for col in 0..8 {
                if bits & (1 << col) == 0 {
                    continue;
                }
                let (px, py) = (left + col * scale, y + row as u32 * scale);
                for dy in 0..scale {
                    for dx in 0..scale {
                        if px + dx < card.width() && py + dy < card.height() {
                            card.put_pixel(px + dx, py + dy, Rgb(color));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_wrap_into_a_few_short_lines() {
        assert_eq!(wrap("A horse trots"), ["A horse trots"]);
        let long = "The horse trots across the meadow, mane in the wind, under a slow golden sunset sky with birds";
        let lines = wrap(long);
        assert_eq!(lines.len(), MAX_LINES);
        assert!(
            lines.iter().all(|l| l.chars().count() <= LINE_CHARS),
            "{lines:?}"
        );
        assert_eq!(lines[0], "The horse trots across");
        assert!(lines[3].ends_with("..."), "{lines:?}");
        assert_eq!(wrap("   "), ["(no prompt)"]);
        assert_eq!(wrap(&"x".repeat(50)), ["x".repeat(LINE_CHARS)]);
    }

    #[test]
    fn the_card_carries_ink_where_the_text_is() {
        let card = draw(640, 360, "Hello", 1);
        assert_eq!(card.dimensions(), (640, 360));
        let bright = card.pixels().filter(|p| p.0 == [245, 240, 230]).count();
        assert!(bright > 200, "{bright} text pixels");
        assert_ne!(card, draw(640, 360, "Hellp", 1));
        // The same seed gives the same card; another seed, other colours.
        assert_eq!(card, draw(640, 360, "Hello", 1));
        assert_ne!(
            card.get_pixel(0, 0),
            draw(640, 360, "Hello", 2).get_pixel(0, 0)
        );
    }
}
