//! Accuracy of `link` on seeded synthetic cross-script data (2k requests
//! against a 5k registry), with the default threshold.

use homeward_matching::LinkConfig;
use homeward_matching::link_with;
use homeward_matching::synth::{SynthConfig, generate};

#[test]
fn synthetic_cross_script_f1() {
    let data = generate(&SynthConfig::new(2_000, 5_000, 42));
    let linkage = link_with(&data.requests, &data.registry, &LinkConfig::default());
    let acc = data.evaluate(&linkage.pairs);
    eprintln!("{acc:?}");
    assert!(acc.f1 >= 0.9, "{acc:?}");
}
