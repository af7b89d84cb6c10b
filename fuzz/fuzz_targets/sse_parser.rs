//! Any bytes, cut into chunks anywhere, parse to the same events as the whole
//! stream, without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use miosa::sse::parse_chunks;

fuzz_target!(|input: &[u8]| {
    let Some((&seed, stream)) = input.split_first() else {
        return;
    };
    let whole = parse_chunks([stream]);
    // Chunk sizes cycle through 1..=seed+1, so every split pattern is reachable.
    let step = usize::from(seed % 16) + 1;
    let chunks: Vec<&[u8]> = stream.chunks(step).collect();
    assert_eq!(parse_chunks(chunks), whole);
    for event in &whole {
        assert!(!event.event.is_empty());
    }
});
