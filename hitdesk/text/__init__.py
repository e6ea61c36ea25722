"""Text beside the audio: lyrics files and the WordPiece tokenizer of the sentence encoder (no ONNX here)."""
