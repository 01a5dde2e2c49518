// Trainer module
