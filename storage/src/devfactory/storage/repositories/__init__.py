"""One repository per aggregate; each returns protocol Structs, never raw rows."""
