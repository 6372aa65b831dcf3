// Imported before every test file, exactly as every entry point imports it first.
import '../src/shim.js'
