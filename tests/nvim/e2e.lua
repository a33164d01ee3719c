-- Run by tests/nvim/run. Works with Neovim 0.7 (Debian 12) and later.
local pass, fail = 0, 0
local function check(ok, what)
  if ok then pass = pass + 1 else fail = fail + 1 end
  print((ok and 'ok   - ' or 'FAIL - ') .. what)
end

local function wait_for_diagnostic(buf, lnum, col)
  return vim.wait(10000, function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.lnum == lnum and (col == nil or d.col == col) then return true end
    end
    return false
  end, 20)
end

-- The LSP diagnostics of one line, as a client sends them back in a code
-- action request (0.7 converts them with byte columns).
local function line_diagnostics(buf, lnum)
  if vim.lsp.diagnostic.get_line_diagnostics then
    return vim.lsp.diagnostic.get_line_diagnostics(buf, lnum)
  end
  return vim.lsp.diagnostic.from(vim.diagnostic.get(buf, { lnum = lnum }))
end

local ok, err = xpcall(function()
  local dir = os.getenv('PROJECT')
  vim.cmd('edit ' .. vim.fn.fnameescape(dir .. '/app.py'))
  local buf = vim.api.nvim_get_current_buf()
  local id = vim.lsp.start_client({ name = 'chalice-iam', cmd = { os.getenv('SERVER'), 'lsp' }, root_dir = dir })
  vim.lsp.buf_attach_client(buf, id)
  local client = vim.lsp.get_client_by_id(id)
  local uri = vim.uri_from_bufnr(buf)

  -- Line 14 (0-based 13): `    items = dynamo_resource.Table(TABLE_NAME).scan()`.
  check(wait_for_diagnostic(buf, 13, 12), 'the scan() call is reported at 13:12')

  local prefix = "x = '日本語😀'; "
  vim.api.nvim_buf_set_text(buf, 13, 4, 13, 4, { prefix })
  check(wait_for_diagnostic(buf, 13, 12 + #prefix), 'the diagnostic moves after an edit with non-ASCII text')
  vim.api.nvim_buf_set_text(buf, 13, 4, 13, 4 + #prefix, { '' })
  check(wait_for_diagnostic(buf, 13, 12), 'and moves back when the edit is undone')

  local hover = vim.lsp.buf_request_sync(buf, 'textDocument/hover',
    { textDocument = { uri = uri }, position = { line = 13, character = 50 } }, 5000)
  local contents = hover and hover[id] and hover[id].result and hover[id].result.contents
  check(contents and contents.value:find('dynamodb:Scan', 1, true) ~= nil, 'hover names dynamodb:Scan')

  local lenses = vim.lsp.buf_request_sync(buf, 'textDocument/codeLens', { textDocument = { uri = uri } }, 5000)
  check(lenses and #lenses[id].result == 2, 'a code lens over each of the two handlers')

  local params = {
    textDocument = { uri = uri },
    range = { start = { line = 13, character = 12 }, ['end'] = { line = 13, character = 12 } },
    context = { diagnostics = line_diagnostics(buf, 13) },
  }
  local response = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, 5000)
  local quickfix
  for _, action in ipairs(response[id].result or {}) do
    if action.kind == 'quickfix' then quickfix = action end
  end
  check(quickfix ~= nil, 'a quick fix is offered')
  vim.lsp.util.apply_workspace_edit(quickfix.edit, client.offset_encoding)
  local config = table.concat(vim.api.nvim_buf_get_lines(vim.fn.bufnr(dir .. '/.chalice/config.json'), 0, -1, false), '\n')
  local decoded = vim.fn.json_decode(config)
  check(decoded.stages.dev.autogen_policy == false, 'the fix turns autogen off in config.json, which stays valid JSON')
  check(vim.fn.bufnr(dir .. '/.chalice/policy-dev.json') ~= -1, 'the fix creates .chalice/policy-dev.json')

  -- Saved to disk: Neovim tells the server nothing about these files, so
  -- only the server's own watcher can notice that Scan is now granted.
  vim.cmd('silent wall')
  check(vim.wait(10000, function()
    for _, d in ipairs(vim.diagnostic.get(buf)) do if d.lnum == 13 then return false end end
    return true
  end, 20), 'after saving, the Scan diagnostic is gone')
end, debug.traceback)
if not ok then print('ERROR: ' .. err); fail = fail + 1 end
print(('%d passed, %d failed'):format(pass, fail))
os.exit(fail == 0 and 0 or 1)
