go test fuzz v1
[]byte("[profile.a]\n[[profile.a.output]]\nname = \"X\"\n\n[profile.\"a.b\"]\n[[profile.\"a.b\".output]]\nname = \"Y\"\n")
string("a")
bool(true)
