"""The charts drawn in the documents and on the region pages."""
