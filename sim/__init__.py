"""Regional innovation-ecosystem simulator (Chongqing, Liangping district)."""
