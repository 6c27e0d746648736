//! Echo: the result is the input, byte for byte.

fn main() {
    outlayer_sdk::output(&outlayer_sdk::input());
}
