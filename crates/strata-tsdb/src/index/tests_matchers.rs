//! Postings set operations and matcher selection against brute-force models.
