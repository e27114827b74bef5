//! Native histogram chunk decoding (in progress).
