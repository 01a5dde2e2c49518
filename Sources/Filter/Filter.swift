// Filter module
