//! `happyhorse validate`: the input checked offline, every broken rule at once.

use serde_json::{Value, json};

use crate::cli::ValidateArgs;
use crate::exit::{self, Failure};
use crate::input;
use crate::output::{Output, Paint, input_errors_json};

pub(super) fn run(args: &ValidateArgs, output: Output) -> anyhow::Result<u8> {
    let mut input_args = args.input.clone();
    if args.file.is_some() {
        input_args.input_file = args.file.clone();
    }
    let spec = input_args.spec();
    match input::assemble_and_validate(spec, &input_args, &mut std::io::stdin().lock()) {
        Ok(value) => {
            output
                .json_line(&json!({"valid": true, "model_id": spec.id, "input": shown(&value)}))?;
            output.result(&format!(
                "{} valid input for {} (nothing was sent)",
                output.paint("ok:", Paint::Green),
                spec.id
            ))?;
            Ok(exit::OK)
        }
        Err(errors) => {
            output.json_line(&json!({
                "valid": false,
                "model_id": spec.id,
                "errors": input_errors_json(errors.errors()),
            }))?;
            let failure = Failure::invalid_input(errors);
            if output.json {
                // The verdict object above is the report; stderr still gets the sentence.
                output.always(&format!("{} {failure}", output.paint("error:", Paint::Red)));
                return Err(failure.reported().into());
            }
            Err(failure.into())
        }
    }
}

/// The input as it would be sent, with inline images shortened (never a whole data: URI).
fn shown(value: &Value) -> Value {
    let mut value = value.clone();
    if let Some(object) = value.as_object_mut() {
        for v in object.values_mut() {
            if let Some(text) = v.as_str()
                && text.starts_with("data:")
            {
                *v = Value::String(happyhorse_core::validate::shorten(text));
            }
        }
    }
    value
}
