//! Background matching, durable in the database (placeholder: see step 3).
