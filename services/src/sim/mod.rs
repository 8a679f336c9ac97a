//! (simulation layer under construction)
