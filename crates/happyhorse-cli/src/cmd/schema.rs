//! `happyhorse schema`: the checked-in JSON Schema, exactly as embedded.

use happyhorse_types::image_to_video;

use crate::cli::{SchemaArgs, SchemaKind};
use crate::exit;
use crate::output::Output;

pub(super) fn run(args: &SchemaArgs, output: Output) -> anyhow::Result<u8> {
    let spec = args.model.unwrap_or(&image_to_video::SPEC);
    let text = match args.which {
        SchemaKind::Input => spec.input_schema,
        SchemaKind::Output => spec.output_schema,
    };
    if output.json {
        // One compact line, like every other --json answer.
        let value: serde_json::Value = serde_json::from_str(text)?;
        output.json_line(&value)?;
    } else {
        output.result(text.trim_end())?;
    }
    Ok(exit::OK)
}
