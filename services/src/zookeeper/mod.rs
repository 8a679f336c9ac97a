//! (twin under construction)
