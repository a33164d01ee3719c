;;; chalice-iam-eglot.el --- chalice-iam through Eglot  -*- lexical-binding: t; -*-

;; Registers the chalice-iam language server with Eglot for Python buffers
;; and adds `chalice-iam-show-policy'.  Load it after Eglot:
;;
;;   (with-eval-after-load 'eglot
;;     (load "/path/to/chalice-iam/editors/emacs/chalice-iam-eglot.el"))
;;
;; Eglot runs one server per major mode, so in Python buffers chalice-iam
;; takes the place of pylsp/pyright (see `chalice-iam-eglot-python-server'
;; to keep another server outside Chalice projects).
;;
;; Settings: `chalice-iam-settings' is sent as initializationOptions; the
;; server's workspace/configuration requests (section "chalice-iam") are
;; answered from `eglot-workspace-configuration', for example in
;; .dir-locals.el:
;;   ((nil . ((eglot-workspace-configuration
;;             . (:chalice-iam (:stage "prod" :severity (:CIAM009 "off")))))))

;;; Code:

(require 'eglot)
(require 'subr-x)

(defgroup chalice-iam nil
  "IAM permissions a Chalice app needs that `chalice deploy' will not grant."
  :group 'tools)

(defcustom chalice-iam-server-command '("chalice-iam" "lsp")
  "The chalice-iam server and its arguments."
  :type '(repeat string))

(defcustom chalice-iam-settings nil
  "Settings sent as initializationOptions, a plist such as
\(:stage \"prod\" :pythonVersion \"3.12\" :severity (:CIAM009 \"off\"))."
  :type 'plist)

(defcustom chalice-iam-eglot-python-server nil
  "The server for Python buffers outside Chalice projects, such as
\(\"pylsp\"); nil means chalice-iam everywhere."
  :type '(choice (const nil) (repeat string)))

(defun chalice-iam-project-root (&optional directory)
  "The Chalice project enclosing DIRECTORY: the nearest directory that
holds app.py or .chalice/config.json (the server's own rule)."
  (when-let ((root (locate-dominating-file
                    (or directory default-directory)
                    (lambda (dir)
                      (or (file-regular-p (expand-file-name "app.py" dir))
                          (file-regular-p (expand-file-name ".chalice/config.json" dir)))))))
    (directory-file-name (expand-file-name root))))

(defun chalice-iam--contact (&optional _interactive)
  "The Eglot contact for the current buffer."
  (if (or (null chalice-iam-eglot-python-server) (chalice-iam-project-root))
      (append chalice-iam-server-command
              ;; An empty plist would go out as null; the server takes
              ;; either, but an object is what the protocol describes.
              (list :initializationOptions (or chalice-iam-settings (make-hash-table))))
    chalice-iam-eglot-python-server))

(add-to-list 'eglot-server-programs
             `(,(if (fboundp 'python-ts-mode) '(python-mode python-ts-mode) 'python-mode)
               . chalice-iam--contact))

(defun chalice-iam-show-policy ()
  "Show the IAM policy the current Chalice project needs, as JSON."
  (interactive)
  (let* ((server (eglot--current-server-or-lose))
         (root (chalice-iam-project-root))
         (policy (eglot-execute-command server "chalice-iam.showPolicy"
                                        (if root (vector root) []))))
    (unless (stringp policy)
      (user-error "chalice-iam: the server answered %S instead of a policy" policy))
    (with-current-buffer (get-buffer-create (format "*chalice-iam policy: %s*" (or root "")))
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert policy)
        (goto-char (point-min)))
      (if (fboundp 'js-json-mode) (js-json-mode) (js-mode))
      (setq buffer-read-only t)
      (pop-to-buffer (current-buffer))
      (current-buffer))))

(provide 'chalice-iam-eglot)
;;; chalice-iam-eglot.el ends here
