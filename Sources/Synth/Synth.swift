// Synth module
